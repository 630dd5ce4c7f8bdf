"""What each photo's card shows of its latest work, and how far the listing's latest batch is."""
from dataclasses import dataclass

import sqlalchemy as sa

from app.catalog.presets import PRESETS
from app.extensions import db
from app.generations.models import Generation, GenerationStatus
from app.generations.service import WITH_OUTPUTS
from app.images.models import Image
from app.images.service import listing_photos
from app.studio.models import Batch

FAILED_WORDS = "Something went wrong with this photo."


@dataclass(frozen=True)
class CardState:
    """A photo's latest work as its card shows it."""

    generation: Generation

    @property
    def word(self) -> str:
        return {
            GenerationStatus.QUEUED: "waiting", GenerationStatus.PROCESSING: "working",
            GenerationStatus.SUCCEEDED: "done", GenerationStatus.FAILED: "failed", GenerationStatus.CANCELED: "stopped",
        }[self.generation.status]

    @property
    def finished(self) -> bool:
        return self.generation.is_terminal

    @property
    def result(self) -> Image | None:
        outputs = self.generation.outputs
        return outputs[0] if outputs and self.generation.status is GenerationStatus.SUCCEEDED else None

    @property
    def reason(self) -> str:
        return self.generation.error_message or FAILED_WORDS


def latest_work(project, photo_ids) -> dict[str, Generation]:
    """The newest live generation on each of these photos, in one query (and one for their results)."""
    if not photo_ids:
        return {}
    newest = sa.func.row_number().over(
        partition_by=Generation.source_image_id, order_by=(Generation.created_at.desc(), Generation.id.desc())
    )
    ranked = (
        sa.select(Generation.id, newest.label("rank"))
        .where(Generation.project_id == project.id, Generation.source_image_id.in_(list(photo_ids)),
               Generation.deleted_at.is_(None))
        .subquery()
    )
    query = sa.select(Generation).join(ranked, ranked.c.id == Generation.id).where(ranked.c.rank == 1)
    return {generation.source_image_id: generation for generation in db.session.scalars(query.options(WITH_OUTPUTS))}


def card_states(project, images) -> dict:
    """Each photo's latest work, by photo id, for its card on the listing page (photos without work are left out)."""
    return {photo_id: CardState(generation) for photo_id, generation in latest_work(project, [i.id for i in images]).items()}


@dataclass(frozen=True)
class BatchProgress:
    """How far the listing's latest batch is, counted on its photos' latest work."""

    batch: Batch
    label: str
    total: int
    done: int
    failed: int
    failed_photos: list

    @property
    def finished(self) -> bool:
        return self.done + self.failed >= self.total


def latest_batch(project, states: dict | None = None) -> BatchProgress | None:
    """The progress of the listing's newest batch (states: card states already read, by photo id)."""
    batch = db.session.scalar(
        sa.select(Batch).where(Batch.project_id == project.id).order_by(Batch.created_at.desc(), Batch.id).limit(1)
    )
    if batch is None:
        return None
    photo_ids = list(db.session.scalars(
        sa.select(Generation.source_image_id).where(Generation.batch_id == batch.id).distinct()
    ))
    if states is None or not set(photo_ids) <= states.keys():
        states = {photo_id: CardState(generation) for photo_id, generation in latest_work(project, photo_ids).items()}
    mine = [states[photo_id] for photo_id in photo_ids if photo_id in states]
    failed = [state for state in mine if state.word in ("failed", "stopped")]
    return BatchProgress(
        batch, batch_label(batch), len(mine), sum(state.word == "done" for state in mine), len(failed),
        [state.generation.source_image_id for state in failed],
    )


def batch_label(batch: Batch) -> str:
    """What the batch did, in the bar's words."""
    preset = PRESETS.get(batch.preset or "")
    return preset.name if preset else "Your instructions"


@dataclass(frozen=True)
class Snapshot:
    """What the listing's watchers see: every photo's card state and the latest batch's progress."""

    photos: list
    states: dict
    batch: BatchProgress | None

    @property
    def active(self) -> bool:
        return any(not state.finished for state in self.states.values())


def snapshot(project) -> Snapshot:
    """One read of the listing's photos, their latest work and the latest batch."""
    photos = listing_photos(project)
    states = card_states(project, photos)
    return Snapshot(photos, states, latest_batch(project, states))
