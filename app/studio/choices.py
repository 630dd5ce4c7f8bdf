"""What the apply bar offers and what an agent chose there: a preset, virtual staging, a saved preset or a prompt."""
from dataclasses import dataclass

from app.catalog.presets import (
    LOCAL_CAPABILITIES,
    PRESETS,
    STAGING_ROOM_TYPES,
    STAGING_STYLES,
    staging_prompt,
)
from app.errors import ApiError
from app.generations.samples import preview_key
from app.generations.service import Offer, offer_for, preset_offers
from app.generations.spec import GenerationSpec
from app.studio import saved

STAGING_PREFIX = "virtual-staging-"
NEEDS_AI = "Needs an AI service — ask your administrator to connect one."
PROMPT_NEEDS_AI = (
    f"Without an AI service Stagecraft can only {LOCAL_CAPABILITIES}. "
    "Ask your administrator to connect one for other edits."
)
SERVICE_REFUSED = "The AI service connected now cannot do this. Try another preset, or ask your administrator."
# The listing's room words (app/catalog/rooms.py) that name a room staging can furnish under another name.
STAGING_ROOM_ALIASES = {"home office": "office"}


@dataclass(frozen=True)
class Choice:
    """One way to change the selected photos, with the words the bar shows for it."""

    label: str  # "Enhance", "Virtual staging: Modern", a saved preset's name, "Your instructions"
    verb: str  # the start of the confirm button: "Enhance", "Stage", "Apply"
    preset: str | None = None
    prompt: str | None = None
    staging_style: str | None = None
    staging_room: str | None = None  # one room for every photo; None: each photo's own room

    def spec_for(self, photo=None) -> GenerationSpec:
        """The generation request for one photo (without one: the request a price is quoted for)."""
        references = [photo.id] if photo is not None else []
        if self.staging_style:
            room = self.staging_room or staging_room_of(photo)
            prompt = staging_prompt(self.staging_style, room) if room else None
            return GenerationSpec(preset=self.preset, prompt=prompt, references=references)
        return GenerationSpec(preset=self.preset, prompt=self.prompt, references=references)


def staging_room_of(photo) -> str | None:
    """The photo's room in staging's words, when it is a room staging furnishes."""
    room = getattr(photo, "room_type", None)
    room = STAGING_ROOM_ALIASES.get(room, room)
    return room if room in STAGING_ROOM_TYPES else None


def parse_choice(workspace_id: int, form) -> Choice:
    """The bar's choice from its form fields (choice, style, room, prompt); 400 with what to fix."""
    value = (form.get("choice") or "").strip()
    if value.startswith("preset:") and value[len("preset:"):] in PRESETS:
        preset = PRESETS[value[len("preset:"):]]
        return Choice(preset.name, preset.name, preset=preset.id)
    if value == "staging":
        style, room = form.get("style") or "", form.get("room") or ""
        if style not in STAGING_STYLES:
            raise ApiError("Choose a furniture style for the staging.")
        if room and room not in STAGING_ROOM_TYPES:
            raise ApiError("Choose the room to furnish, or let each photo's own room decide.")
        preset = PRESETS[STAGING_PREFIX + style]
        return Choice(preset.name, "Stage", preset=preset.id, staging_style=style, staging_room=room or None)
    if value.startswith("saved:") and value[len("saved:"):].isdigit():
        chosen = saved.get_saved_preset(workspace_id, int(value[len("saved:"):]))
        return Choice(chosen.name, "Apply", prompt=chosen.prompt)
    if value == "prompt":
        prompt = (form.get("prompt") or "").strip()
        if not prompt:
            raise ApiError("Write what to change in the photos first.")
        return Choice("Your instructions", "Apply", prompt=prompt)
    raise ApiError("Choose what to do to the photos: a preset, virtual staging or your own words.")


def price_offer(project, choice: Choice) -> Offer:
    """What the choice costs on one photo of the listing, by the rules a generation is created with."""
    return offer_for(project, choice.spec_for())


def refusal_words(offer: Offer, prompt: str | None = None) -> str:
    """Why the choice cannot run, in an agent's words (never a setting's or a preset's internal name); for
    instructions of the agent's own, quoting them, since the engine refuses them whole rather than do part."""
    if offer.preset is not None and offer.preset.needs_ai_provider and offer.service == "the built-in engine":
        return NEEDS_AI
    if offer.preset is None and offer.service == "the built-in engine":
        if " but cannot " in (offer.refusal or ""):  # understood only in part: what it can, and cannot, do of it
            return f"Not started, nothing charged: {offer.refusal}"
        if not prompt:
            return PROMPT_NEEDS_AI
        return f"Not started, nothing charged: “{_shortened(prompt)}” needs an AI service. {PROMPT_NEEDS_AI}"
    return SERVICE_REFUSED


def _shortened(prompt: str, limit: int = 120) -> str:
    words = " ".join(prompt.split())
    return words if len(words) <= limit else words[:limit - 1].rstrip() + "…"


@dataclass(frozen=True)
class BarOffer:
    """One entry of the apply bar: a preset (or staging as one entry) with its price per photo or why not."""

    value: str
    name: str
    description: str
    swatch: str
    credits: int | None
    unavailable: str | None
    preview: str | None = None  # storage key of a small 'after' sample, when the built-in engine has one


def bar_offers(project) -> list[BarOffer]:
    """The bar's presets in catalogue order, the staging styles folded into one entry."""
    entries, staging = [], []
    for offer in preset_offers(project):
        preset = offer.preset
        if preset.id.startswith(STAGING_PREFIX):
            staging.append(offer)
            continue
        words = None if offer.available else refusal_words(offer)
        entries.append(BarOffer(f"preset:{preset.id}", preset.name, preset.description, preset.id, offer.credits, words,
                                preview_key(preset)))
    if staging:
        able = [offer for offer in staging if offer.available]
        credits = min((offer.credits for offer in able), default=None)
        words = None if able else NEEDS_AI
        entries.append(BarOffer("staging", "Virtual staging", "Furnish empty rooms in the style you choose.",
                                "virtual-staging", credits, words))
    return entries
