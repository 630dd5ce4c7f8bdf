"""A photo's versions: its original and every result made from it, which one is final, and keeping one.

The final version of an uploaded photo is the one the agent kept (`Image.kept_image_id`; the photo
itself means the original); when none is kept it is the newest result of a finished generation made
from the photo, else the original. A package of its own above generations and images, because a
version is a generation's output and generations already build on images.
"""
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from app.catalog.presets import PRESETS
from app.errors import ApiError
from app.extensions import db
from app.generations.models import Generation, GenerationStatus
from app.images.models import Image
from app.images.service import listing_photos, photo_name
from app.projects.models import Project

PROMPT_WORDS = 60  # characters of a prompt shown as what made a version


@dataclass(frozen=True)
class Version:
    """One version of a photo, with what made it and when."""

    image: Image
    generation: Generation | None  # None for the original upload
    made_by: str
    created_at: datetime

    @property
    def is_original(self) -> bool:
        return self.generation is None


def made_by(generation: Generation | None) -> str:
    """What made a version, in an agent's words: the preset's name or the prompt."""
    if generation is None:
        return "Original upload"
    preset = PRESETS.get(generation.preset or "")
    if preset is not None:
        return preset.name
    prompt = " ".join((generation.original_prompt or generation.prompt or "").split())
    if not prompt:
        return "Custom edit"
    return f"“{prompt[:PROMPT_WORDS]}{'…' if len(prompt) > PROMPT_WORDS else ''}”"


def _results_query(project_id: int, photo_ids: list[str]):
    """Live outputs of succeeded generations made from these photos, newest first."""
    return (
        sa.select(Image, Generation)
        .join(Generation, Generation.id == Image.generation_id)
        .where(
            Generation.project_id == project_id,
            Generation.source_image_id.in_(photo_ids),
            Generation.status == GenerationStatus.SUCCEEDED,
            Generation.deleted_at.is_(None),
            Image.project_id == project_id,
            Image.deleted_at.is_(None),
        )
        .order_by(Image.created_at.desc(), Image.id.desc())
    )


def history(photo: Image) -> list[Version]:
    """The photo's versions, newest first: every result made from it, then the original."""
    if photo.source != "uploaded":
        return []
    rows = db.session.execute(_results_query(photo.project_id, [photo.id])).all()
    # Tries of the same preset are told apart by their number, counted from the oldest: "Enhance · try 2".
    seen: dict[str, int] = {}
    words = []
    for _, generation in reversed(rows):
        name = made_by(generation)
        seen[name] = seen.get(name, 0) + 1
        words.append(name if seen[name] == 1 else f"{name} · try {seen[name]}")
    versions = [Version(image, generation, word, image.created_at)
                for (image, generation), word in zip(rows, reversed(words))]
    return versions + [Version(photo, None, made_by(None), photo.created_at)]


def final_version(photo: Image) -> Image:
    """The version the photo is delivered as (see the module's docstring)."""
    return final_versions([photo])[photo.id]


def final_versions(photos: list[Image]) -> dict[str, Image]:
    """Each photo's final version, by photo id, in two queries whatever the number of photos."""
    finals = {photo.id: photo for photo in photos}
    by_project: dict[int, list[str]] = {}
    for photo in photos:
        by_project.setdefault(photo.project_id, []).append(photo.id)
    newest: dict[str, Image] = {}
    for project_id, ids in by_project.items():
        for image, generation in db.session.execute(_results_query(project_id, ids)).all():
            newest.setdefault(generation.source_image_id, image)
    kept_ids = {photo.kept_image_id for photo in photos if photo.kept_image_id and photo.kept_image_id != photo.id}
    kept = {image.id: image for image in _live_images(kept_ids)}
    for photo in photos:
        if photo.kept_image_id == photo.id:
            continue
        chosen = kept.get(photo.kept_image_id) if photo.kept_image_id else None
        finals[photo.id] = chosen if chosen is not None and chosen.project_id == photo.project_id else newest.get(
            photo.id, photo
        )
    return finals


def _live_images(ids: set[str]) -> list[Image]:
    if not ids:
        return []
    return list(db.session.scalars(sa.select(Image).where(Image.id.in_(ids), Image.deleted_at.is_(None))))


def generation_of(photo: Image, image: Image) -> Generation | None:
    """The generation that made one of the photo's versions (None for the original)."""
    if image.id == photo.id or image.generation_id is None:
        return None
    return db.session.get(Generation, image.generation_id)


def keep_version(photo: Image, version_id: str) -> Image:
    """Make one of the photo's versions its final one (the photo's own id: back to the original)."""
    if photo.source != "uploaded":
        raise ApiError("Only an uploaded photo has versions to keep; open the photo it was made from.")
    version_id = (version_id or "").strip()
    if not version_id:
        raise ApiError("Choose the version to keep.")
    chosen = next((version.image for version in history(photo) if version.image.id == version_id), None)
    if chosen is None:
        raise ApiError("That version is not one of this photo's; reload the page and choose again.", status=404,
                       code="not_found")
    photo.kept_image_id = chosen.id
    db.session.flush()
    return chosen


def listing_order(photo: Image) -> int:
    """The photo's 1-based place in its listing's order (0 when it is not an uploaded photo)."""
    project = db.session.get(Project, photo.project_id)
    ids = [image.id for image in listing_photos(project)]
    return ids.index(photo.id) + 1 if photo.id in ids else 0


def slug(text: str, limit: int = 40) -> str:
    """Lower-case ASCII words joined by hyphens, for file names."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    words = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return words[:limit].rstrip("-") or "photo"


def room_slug(photo: Image) -> str:
    """The photo's room type, else its name without the extension, as a file-name word."""
    if photo.room_type:
        return slug(photo.room_type)
    name = photo_name(photo)
    return slug(name.rsplit(".", 1)[0] if photo.title is None and "." in name else name)


def file_stem(photo: Image, order: int) -> str:
    """The name a photo's files are saved under: its place in the listing and its room (03-kitchen)."""
    return f"{order:02d}-{room_slug(photo)}" if order else room_slug(photo)


def download_stem(photo: Image) -> str:
    """The file name (without extension) a photo's versions download under."""
    return file_stem(photo, listing_order(photo))
