"""Room types in plain words, found in a caller's hint, a file name or a photo's stored details."""
import re

# Canonical room type → words that name it in hints and file names.
ROOM_WORDS = {
    "kitchen": ("kitchen", "kitchenette"),
    "bathroom": ("bathroom", "bath", "ensuite", "en-suite", "washroom", "powder"),
    "bedroom": ("bedroom", "bed", "master", "nursery", "guest room"),
    "living room": ("living room", "living", "lounge", "family room", "sitting room", "den"),
    "dining room": ("dining room", "dining"),
    "home office": ("office", "study"),
    "laundry": ("laundry", "utility"),
    "hallway": ("hallway", "hall", "corridor", "entry", "foyer", "entrance"),
    "garage": ("garage",),
    "exterior": ("exterior", "front", "facade", "outside", "street view", "curb"),
    "backyard": ("backyard", "back yard", "garden", "yard", "patio", "deck", "terrace"),
    "pool": ("pool",),
    "balcony": ("balcony",),
}
OUTDOOR_ROOMS = {"exterior", "backyard", "pool", "balcony"}


def room_from_text(text: str | None) -> str | None:
    """The room type a hint or file name names, or None when it names none."""
    if not text:
        return None
    words = " " + re.sub(r"[^a-z]+", " ", text.lower().replace("-", " ")) + " "
    best = None
    for room, names in ROOM_WORDS.items():
        for name in names:
            position = words.find(f" {name} ")
            if position >= 0 and (best is None or len(name) > best[1]):
                best = (room, len(name))
    return best[0] if best else None


def resolve_room(hint: str | None, filename: str | None, stored: dict | None) -> str | None:
    """The caller's hint first, then the photo's stored room type, then its file name."""
    stored = stored or {}
    for text in (hint, stored.get("roomType"), stored.get("room_type"), stored.get("room"), filename):
        room = room_from_text(text)
        if room:
            return room
    return None
