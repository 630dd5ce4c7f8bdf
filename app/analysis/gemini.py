"""The Gemini analyzer: one vision call per photo, answered in JSON by a response schema, then checked and trimmed.

Wire format (Gemini API, v1beta generateContent): the instructions and the photo (inline, base64)
in contents[0].parts; generationConfig.responseMimeType "application/json" with a responseSchema
(an OpenAPI subset: type, properties, required, items, enum, maxItems) makes the model answer with
one JSON text part in candidates[0].content.parts.
"""
import base64
import json

from app.catalog.rooms import ROOM_WORDS
from app.analysis.writing import (
    ALT_MAX, CAPTION_MAX, DESCRIPTION_MAX, MAX_TAGS, TITLE_MAX, ListingContext, clean, clean_tags, slugify,
)
from app.imaging.io import encode_image
from app.providers.base import ProviderError

NAME = "gemini"
PHOTO_SIDE = 1536
ROOM_CHOICES = [*ROOM_WORDS, "other"]
RESPONSE_SCHEMA = {
    "type": "OBJECT",
    "properties": {
        "title": {"type": "STRING", "description": f"Listing title, at most {TITLE_MAX} characters."},
        "alt": {"type": "STRING", "description": f"SEO alt text, at most {ALT_MAX} characters."},
        "caption": {"type": "STRING", "description": "One-sentence caption."},
        "description": {"type": "STRING", "description": "Two or three sentences for the listing."},
        "filename": {"type": "STRING", "description": "SEO file name: lower-case words joined by hyphens."},
        "seoTags": {"type": "ARRAY", "items": {"type": "STRING"}, "maxItems": MAX_TAGS},
        "roomType": {"type": "STRING", "enum": ROOM_CHOICES},
    },
    "required": ["title", "alt", "caption", "description", "filename", "seoTags", "roomType"],
    "propertyOrdering": ["roomType", "title", "alt", "caption", "description", "filename", "seoTags"],
}


def request_body(image, room: str | None, context: ListingContext) -> dict:
    """The generateContent body for one photo."""
    photo = image.convert("RGB")
    photo.thumbnail((PHOTO_SIDE, PHOTO_SIDE))
    data = base64.b64encode(encode_image(photo, "JPEG", quality=85)).decode("ascii")
    return {
        "contents": [{"role": "user", "parts": [
            {"text": instructions(room, context)},
            {"inline_data": {"mime_type": "image/jpeg", "data": data}},
        ]}],
        "generationConfig": {"responseMimeType": "application/json", "responseSchema": RESPONSE_SCHEMA,
                             "temperature": 0.4},
    }


def instructions(room: str | None, context: ListingContext) -> str:
    lines = [
        "You write listing copy for a real-estate photo. Describe only what is visible; never invent features.",
        f"Keep the alt text under {ALT_MAX} characters and the title under {TITLE_MAX}.",
        "Do not repeat the same phrase across fields.",
    ]
    if room:
        lines.append(f"The agent says this photo shows the {room}.")
    facts = {"Address": context.place, "Bedrooms": context.bedrooms, "Style keywords": ", ".join(context.style),
             "Brand voice": context.brand_voice}
    known = [f"{name}: {value}" for name, value in facts.items() if value]
    if known:
        lines.append("Weave in this listing context where natural. " + "; ".join(known) + ".")
    return "\n".join(lines)


def read_answer(body: dict) -> dict:
    """The metadata in a 200 answer, checked and trimmed; ProviderError when there is none."""
    blocked = (body.get("promptFeedback") or {}).get("blockReason")
    if blocked:
        raise ProviderError(f"Gemini declined to describe this photo ({blocked}).", code="content_policy")
    candidates = body.get("candidates") or []
    if not candidates:
        raise ProviderError("Gemini sent back no description.", code="bad_result")
    parts = (candidates[0].get("content") or {}).get("parts") or []
    text = "".join(part.get("text", "") for part in parts if not part.get("thought"))
    try:
        answer = json.loads(text)
    except ValueError:
        reason = candidates[0].get("finishReason") or "unreadable answer"
        raise ProviderError(f"Gemini's description could not be read ({reason}).", code="bad_result") from None
    if not isinstance(answer, dict):
        raise ProviderError("Gemini's description was not a JSON object.", code="bad_result")
    return validated(answer)


def validated(answer: dict) -> dict:
    """Every field present, as text of the right length; the room type one we know (or None)."""
    fields = {"title": TITLE_MAX, "alt": ALT_MAX, "caption": CAPTION_MAX, "description": DESCRIPTION_MAX}
    metadata = {}
    for name, limit in fields.items():
        value = answer.get(name)
        if not isinstance(value, str) or not clean(value, limit):
            raise ProviderError(f"Gemini's description has no usable {name}.", code="bad_result")
        metadata[name] = clean(value, limit)
    metadata["filename"] = slugify(str(answer.get("filename") or metadata["title"]))
    tags = answer.get("seoTags")
    metadata["seoTags"] = clean_tags(tags if isinstance(tags, list) else [])
    room = answer.get("roomType")
    metadata["roomType"] = room if room in ROOM_WORDS else None
    return metadata
