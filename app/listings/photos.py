"""A listing's photo grid: groups by room, duplicates, and the agent's edits (room, name, order, delete)."""
from dataclasses import dataclass, field

import sqlalchemy as sa

from app.catalog.rooms import ROOM_WORDS
from app.errors import ApiError
from app.extensions import db
from app.images.models import Image
from app.images.service import delete_image, get_image, listing_photos, photo_name
from app.projects.models import Project

OTHER_ROOM = "other"
ROOM_CHOICES = (*ROOM_WORDS, OTHER_ROOM)
UNSORTED_LABEL = "Not sorted yet"
MAX_TITLE = 120


@dataclass
class RoomGroup:
    """The photos of one room type, in the listing's order."""

    room: str | None
    label: str
    images: list = field(default_factory=list)


def room_label(room: str | None) -> str:
    """A room type as a heading: 'Living room', 'Other', 'Not sorted yet'."""
    return room.capitalize() if room else UNSORTED_LABEL


def room_groups(images: list[Image]) -> list[RoomGroup]:
    """Photos grouped by room type, groups in the order their first photo has; unsorted photos last."""
    groups: dict[str | None, RoomGroup] = {}
    for image in images:
        room = image.room_type or None
        groups.setdefault(room, RoomGroup(room, room_label(room))).images.append(image)
    unsorted = groups.pop(None, None)
    return [*groups.values(), *([unsorted] if unsorted else [])]


def duplicates(images: list[Image]) -> dict[str, str]:
    """Photo id → the name of the earlier photo in the listing with the very same bytes."""
    first_by_hash: dict[str, Image] = {}
    found = {}
    for image in images:
        first = first_by_hash.setdefault(image.sha256, image)
        if first is not image:
            found[image.id] = photo_name(first)
    return found


def duplicate_of(project: Project, image: Image) -> str | None:
    """The name of another live photo of the listing with the same bytes, if any."""
    other = db.session.scalar(
        sa.select(Image)
        .where(
            Image.project_id == project.id,
            Image.source == "uploaded",
            Image.deleted_at.is_(None),
            Image.sha256 == image.sha256,
            Image.id != image.id,
        )
        .order_by(Image.position.is_(None), Image.position, Image.created_at)
        .limit(1)
    )
    return photo_name(other) if other else None


def listing_photo(project: Project, image_id: str) -> Image:
    """A live uploaded photo of this listing; 404 otherwise."""
    image = get_image(project, image_id)
    if image.source != "uploaded":
        raise ApiError("Photo not found", status=404, code="not_found")
    return image


def set_room(image: Image, room: str | None) -> Image:
    """Set the photo's room type (one of ROOM_CHOICES), or clear it with an empty value."""
    room = (room or "").strip().lower() or None
    if room is not None and room not in ROOM_CHOICES:
        raise ApiError("Choose a room from the list (or Other).")
    image.room_type = room
    db.session.flush()
    return image


def rename_photo(image: Image, title: str | None) -> Image:
    """Give the photo a name of up to 120 characters; an empty name goes back to the file name."""
    title = "".join(char for char in (title or "") if char.isprintable()).strip() or None
    if title and len(title) > MAX_TITLE:
        raise ApiError(f"A photo name can be at most {MAX_TITLE} characters; shorten it a little.")
    image.title = title if title != image.original_filename else None
    db.session.flush()
    return image


def move_photo(project: Project, image: Image, direction: str) -> Image:
    """Swap the photo with its neighbour in the same room group ('earlier' or 'later')."""
    if direction not in ("earlier", "later"):
        raise ApiError("Choose to move the photo earlier or later.")
    photos = listing_photos(project)
    for number, photo in enumerate(photos, start=1):
        photo.position = number  # make the whole order explicit before swapping two places
    same_room = [photo for photo in photos if (photo.room_type or None) == (image.room_type or None)]
    index = same_room.index(image) + (-1 if direction == "earlier" else 1)
    if not 0 <= index < len(same_room):
        where = "first" if direction == "earlier" else "last"
        raise ApiError(f"{photo_name(image)} is already the {where} photo of its room.")
    neighbour = same_room[index]
    image.position, neighbour.position = neighbour.position, image.position
    db.session.flush()
    return image


def delete_photos(project: Project, image_ids: list[str]) -> int:
    """Delete the chosen photos of the listing; every id must be one of its live photos."""
    if not image_ids:
        raise ApiError("Select the photos to delete first.")
    if len(image_ids) > 500:
        raise ApiError("Delete at most 500 photos at a time.")
    images = [listing_photo(project, image_id) for image_id in dict.fromkeys(image_ids)]
    for image in images:
        delete_image(image)
    return len(images)
