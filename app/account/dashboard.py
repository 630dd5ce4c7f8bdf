"""The dashboard's listing cards: cover photo, photo count and jobs running, for all listings in three queries."""
from dataclasses import dataclass

import sqlalchemy as sa

from app.extensions import db
from app.generations.models import Generation, GenerationStatus
from app.images.models import Image
from app.pagination import count_per
from app.projects.models import Project

RUNNING = (GenerationStatus.QUEUED, GenerationStatus.PROCESSING)
# A listing's photos and their order, as app.images.service.listing_photos selects and sorts them.
LISTING_PHOTO = (Image.source == "uploaded", Image.deleted_at.is_(None))
LISTING_ORDER = (Image.position.is_(None), Image.position, Image.created_at, Image.id)


@dataclass(frozen=True)
class ListingCard:
    project: Project
    cover: Image | None
    photos: int
    running: int


def covers(project_ids: list[int]) -> dict[int, Image]:
    """Each listing's first photo in the agent's order (listing_photos' order), in one query."""
    if not project_ids:
        return {}
    rank = sa.func.row_number().over(partition_by=Image.project_id, order_by=LISTING_ORDER).label("rank")
    ranked = sa.select(Image.id, rank).where(Image.project_id.in_(project_ids), *LISTING_PHOTO).subquery()
    query = sa.select(Image).join(ranked, ranked.c.id == Image.id).where(ranked.c.rank == 1)
    return {image.project_id: image for image in db.session.scalars(query)}


def listing_cards(projects: list[Project]) -> list[ListingCard]:
    """A card for each listing, in the order given."""
    ids = [project.id for project in projects]
    first = covers(ids)
    photos = count_per(Image.project_id, ids, *LISTING_PHOTO)
    running = count_per(Generation.project_id, ids, Generation.status.in_(RUNNING), Generation.deleted_at.is_(None))
    return [ListingCard(p, first.get(p.id), photos[p.id], running[p.id]) for p in projects]
