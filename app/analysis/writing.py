"""Shared rules for listing text: the caller's listing context, limits, trimming and slugs."""
import re
import unicodedata
from dataclasses import dataclass

from app.errors import ApiError

ALT_MAX = 125
TITLE_MAX = 90
CAPTION_MAX = 200
DESCRIPTION_MAX = 1000
FILENAME_MAX = 80
MAX_TAGS = 15
TAG_MAX = 40
CONTEXT_FIELD_MAX = 200
MAX_STYLE_KEYWORDS = 8
METADATA_FIELDS = ("title", "alt", "caption", "description", "filename", "seoTags")


@dataclass(frozen=True)
class ListingContext:
    """What the caller told us about the listing, cleaned and bounded."""

    address: str = ""
    city: str = ""
    bedrooms: int | None = None
    style: tuple[str, ...] = ()
    brand_voice: str = ""

    @property
    def place(self) -> str:
        """'12 Oak Lane, Springfield', either part alone, or ''."""
        return ", ".join(part for part in (self.address, self.city) if part)

    @property
    def located(self) -> str:
        """' at 12 Oak Lane, Springfield', ' in Springfield', or ''."""
        if self.address:
            return f" at {self.place}"
        return f" in {self.city}" if self.city else ""

    def as_dict(self) -> dict:
        return {"address": self.address, "city": self.city, "bedrooms": self.bedrooms,
                "styleKeywords": list(self.style), "brandVoice": self.brand_voice}


def parse_context(raw) -> ListingContext:
    """A ListingContext from a request's `context` object (or {}); 400 naming the bad field otherwise."""
    if raw in (None, ""):
        return ListingContext()
    if not isinstance(raw, dict):
        raise ApiError("context must be an object with address, city, bedrooms, styleKeywords and brandVoice.")
    bedrooms = raw.get("bedrooms")
    if bedrooms in ("", None):
        bedrooms = None
    else:
        try:
            bedrooms = int(bedrooms)
        except (TypeError, ValueError):
            raise ApiError("context.bedrooms must be a whole number.") from None
        if not 0 <= bedrooms <= 50:
            raise ApiError("context.bedrooms must be between 0 and 50.")
    style = raw.get("styleKeywords", raw.get("style", ()))
    if isinstance(style, str):
        style = style.split(",")
    if not isinstance(style, (list, tuple)):
        raise ApiError("context.styleKeywords must be a list of words or a comma-separated string.")
    keywords = tuple(dict.fromkeys(clean(str(word), TAG_MAX).lower() for word in style if clean(str(word), TAG_MAX)))
    return ListingContext(
        address=clean(_text(raw, "address"), CONTEXT_FIELD_MAX),
        city=clean(_text(raw, "city"), CONTEXT_FIELD_MAX),
        bedrooms=bedrooms,
        style=keywords[:MAX_STYLE_KEYWORDS],
        brand_voice=clean(_text(raw, "brandVoice") or _text(raw, "brand_voice"), CONTEXT_FIELD_MAX),
    )


def context_from_dict(stored: dict | None) -> ListingContext:
    return parse_context(stored or {})


def _text(raw: dict, name: str) -> str:
    value = raw.get(name)
    if value is None:
        return ""
    if not isinstance(value, (str, int, float)):
        raise ApiError(f"context.{name} must be text.")
    return str(value)


def clean(text: str, limit: int) -> str:
    """Single-spaced, control characters removed, cut at a word boundary to `limit` characters."""
    text = " ".join("".join(ch for ch in str(text) if ch.isprintable()).split())
    return trim(text, limit)


def trim(text: str, limit: int) -> str:
    """Cut at the last word boundary that fits, without a dangling comma or dash."""
    if len(text) <= limit:
        return text
    cut = text[:limit + 1].rsplit(" ", 1)[0] if " " in text[:limit + 1] else text[:limit]
    return cut[:limit].rstrip(" ,;:-–—")


def slugify(text: str, limit: int = FILENAME_MAX) -> str:
    """Lower-case ASCII words joined by hyphens (no extension), at most `limit` characters."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    if len(slug) > limit:
        slug = slug[:limit].rsplit("-", 1)[0]
    return slug or "listing-photo"


def sentence(text: str) -> str:
    """A capitalised sentence ending in a full stop."""
    text = text.strip()
    if not text:
        return ""
    text = text[0].upper() + text[1:]
    return text if text[-1] in ".!?" else text + "."


def join_words(words) -> str:
    """'a', 'a and b', 'a, b and c'."""
    words = [w for w in words if w]
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} and {words[-1]}"


def clean_tags(tags, limit: int = MAX_TAGS) -> list[str]:
    """Lower-case tags, trimmed, each once, at most `limit`."""
    seen = {}
    for tag in tags:
        tag = clean(str(tag), TAG_MAX).lower().strip(" #")
        if tag and tag not in seen:
            seen[tag] = None
    return list(seen)[:limit]
