"""The offline analyzer: listing text built only from what was measured and what the caller told us.

It never names an object it cannot see: the subject is the room type when the caller's hint, the
file name or the photo's stored details say it, and "photo" otherwise. Phrasings are chosen by a
hash of the photo's name, so a set of photos reads varied and the same photo always reads the same.
"""
import hashlib

from app.catalog.rooms import OUTDOOR_ROOMS
from app.analysis.writing import (
    ALT_MAX, CAPTION_MAX, DESCRIPTION_MAX, TITLE_MAX, ListingContext, clean_tags, join_words, sentence, slugify, trim,
)
from app.imaging.measure import Measurements

NAME = "local"
LIGHT_WORDS = {"bright": "bright", "balanced": "", "dark": "low-lit"}
VOICE_CLOSINGS = {
    "luxury": ("An elegant setting worth seeing in person.", "Refined living, ready to view."),
    "friendly": ("Come and see it for yourself!", "We'd love to show you around."),
    "professional": ("Contact us to arrange a viewing.", "Viewings are available on request."),
    "playful": ("Go on, picture yourself here!", "Your next chapter could start right here."),
}
DEFAULT_CLOSINGS = ("Contact us to arrange a viewing.", "Book a viewing to see it in person.")


def describe(measured: Measurements, room: str | None, context: ListingContext, seed: str) -> dict:
    """Title, alt, caption, description, filename and tags for one photo."""
    pick = _picker(seed)
    subject = room or "photo"
    style = context.style[0] if context.style else ""
    light = LIGHT_WORDS[measured.exposure]
    tones = _tones(measured.colours)
    title = _title(subject, style, light, context, pick)
    alt = _alt(subject, tones, context)
    caption = _caption(subject, style, tones, context, pick)
    description = _description(measured, subject, room, tones, context, pick)
    filename = slugify(" ".join(filter(None, [style, subject if room else "listing photo", context.address, context.city])))
    return {
        "title": trim(title, TITLE_MAX),
        "alt": trim(alt, ALT_MAX),
        "caption": trim(caption, CAPTION_MAX),
        "description": trim(description, DESCRIPTION_MAX),
        "filename": filename,
        "seoTags": _tags(room, measured, context),
    }


def _picker(seed: str):
    digest = hashlib.sha256(seed.encode()).digest()
    counter = iter(range(len(digest)))
    return lambda options: options[digest[next(counter)] % len(options)]


def _tones(colours: tuple[str, ...]) -> str:
    """'cream and brown tones', or '' when nothing was measured."""
    return f"{join_words(colours[:2])} tones" if colours else ""


def _title(subject: str, style: str, light: str, context: ListingContext, pick) -> str:
    described = " ".join(filter(None, [light, style, subject])).strip()
    if subject == "photo":
        described = " ".join(filter(None, [light, style, "listing photo"]))
    described = described[0].upper() + described[1:]
    if context.address:
        return f"{described} at {context.place}"
    if context.city:
        return f"{described} in {context.city}"
    if context.bedrooms:
        return f"{described} in a {context.bedrooms}-bedroom home"
    return described


def _alt(subject: str, tones: str, context: ListingContext) -> str:
    what = "Listing photo" if subject == "photo" else subject[0].upper() + subject[1:]
    return f"{what} in {tones}{context.located}" if tones else f"{what}{context.located}"


def _caption(subject: str, style: str, tones: str, context: ListingContext, pick) -> str:
    the = f"the {style} {subject}" if style else f"the {subject}"
    if subject == "photo":
        the = "a listing photo"
    opening = pick((f"{the}, finished in {tones}", f"{the} in {tones}")) if tones else the
    if context.bedrooms and context.city:
        home = f"part of a {context.bedrooms}-bedroom home in {context.city}"
    elif context.bedrooms:
        home = f"part of a {context.bedrooms}-bedroom home"
    elif context.city:
        home = f"in {context.city}"
    else:
        return sentence(opening)
    return sentence(f"{opening}, {home}" if not home.startswith("in ") else f"{opening} {home}")


def _description(measured, subject: str, room: str | None, tones: str, context: ListingContext, pick) -> str:
    sentences = [_first_sentence(measured, subject, room, tones, pick)]
    home = _home_sentence(context, pick)
    if home:
        sentences.append(home)
    closings = VOICE_CLOSINGS.get(_voice(context.brand_voice), DEFAULT_CLOSINGS)
    sentences.append(pick(closings))
    return " ".join(sentence(s) for s in sentences)


def _first_sentence(measured, subject: str, room: str | None, tones: str, pick) -> str:
    shape = {"landscape": "a wide shot", "portrait": "a tall shot", "square": "a square shot"}[measured.orientation]
    if room is None:
        core = f"this listing photo is {shape}"
    elif room in OUTDOOR_ROOMS:
        core = pick((f"this {shape[2:]} shows the {subject}", f"{shape} of the {subject}"))
    else:
        core = pick((f"{shape} of the {subject}", f"the {subject}, seen in {shape}"))
    light = {"bright": "brightly lit", "dark": "in low light", "balanced": "evenly lit"}[measured.exposure]
    if tones:
        return f"{core}, {light}, with {tones} throughout"
    return f"{core}, {light}"


def _home_sentence(context: ListingContext, pick) -> str:
    styled = join_words(list(context.style[:3]))
    home = f"{context.bedrooms}-bedroom home" if context.bedrooms else "home"
    if styled:
        home = f"{styled} {home}"
    where = context.located
    if not (styled or context.bedrooms or where):
        return ""
    return pick((f"it belongs to a {home}{where}", f"this is part of a {home}{where}"))


def _voice(brand_voice: str) -> str:
    words = brand_voice.lower()
    for voice, hints in {"luxury": ("luxur", "elegant", "premium", "upscale"), "friendly": ("friend", "warm", "casual"),
                         "playful": ("playful", "fun", "quirky"), "professional": ("professional", "formal")}.items():
        if any(hint in words for hint in hints):
            return voice
    return ""


def _tags(room: str | None, measured, context: ListingContext) -> list[str]:
    tags = [room or "listing photo"]
    if room:
        tags.append("exterior" if room in OUTDOOR_ROOMS else "interior")
    if context.city:
        tags += [context.city, f"{context.city} real estate", f"homes for sale in {context.city}"]
    if context.bedrooms:
        tags.append(f"{context.bedrooms} bedroom home")
    tags += list(context.style)
    if room and context.style:
        tags.append(f"{context.style[0]} {room}")
    tags += [f"{colour} {room}" if room and room not in OUTDOOR_ROOMS else colour for colour in measured.colours[:2]]
    tags.append("real estate photo")
    return clean_tags(tags)
