"""The one preset catalogue every surface draws from, and the free-text to local-engine mapping."""

from __future__ import annotations

import re
from dataclasses import dataclass

Step = tuple[str, dict]

STAGING_ROOM_TYPES = ("living room", "bedroom", "dining room", "kitchen", "office")
ROOM_TYPES = STAGING_ROOM_TYPES + ("bathroom", "exterior")
INTERIOR_ROOM_TYPES = tuple(room for room in ROOM_TYPES if room != "exterior")
# Scene types the local engine tells apart (app/imaging/scene.py); presets say which they suit.
ALL_SCENES = ("interior", "exterior", "twilight")
INTERIOR_SCENES = ("interior",)
DAYTIME_EXTERIOR_SCENES = ("exterior",)
STAGING_STYLES = {
    "modern": "clean-lined modern furniture in neutral tones with black metal accents",
    "scandinavian": "light oak Scandinavian furniture, soft white textiles, wool throws and green plants",
    "farmhouse": "modern farmhouse furniture, reclaimed wood, linen upholstery and woven baskets",
    "coastal": "breezy coastal furniture in white and sand tones, rattan pieces and soft blue accents",
    "mid-century": "mid-century modern furniture with walnut wood, tapered legs and mustard and teal accents",
    "industrial": "industrial loft furniture, cognac leather, raw steel and dark wood",
    "luxury": "high-end luxury furniture, velvet and marble, brass details and statement lighting",
}
_KEEP_ARCHITECTURE = (
    "Keep the walls, windows, doors, floor, ceiling, lighting and camera angle exactly as they are; "
    "photorealistic, correct perspective and scale, natural shadows."
)


class UnknownPreset(ValueError):
    """A preset id that is not in the catalogue."""


class PromptNotSupported(ValueError):
    """A free-text request the built-in engine cannot do without an AI provider."""


@dataclass(frozen=True)
class Preset:
    """One edit users can pick; local_pipeline None means it needs an AI provider."""

    id: str
    name: str
    description: str
    room_types: tuple[str, ...]
    prompt: str
    local_pipeline: tuple[Step, ...] | None
    kind: str = "edit"
    # Listing rules ask for altered photos to say so: these carry the "Virtually staged" label unless turned off.
    labelled: bool = False
    # Scenes the local pipeline is made for; the local engine refuses photos it can tell are another kind.
    scenes: tuple[str, ...] = ALL_SCENES

    @property
    def needs_ai_provider(self) -> bool:
        return self.local_pipeline is None


def _staging_text(furnishing: str, room: str) -> str:
    return (
        f"Virtually stage this empty {room} with {furnishing}, arranged the way a professional home stager "
        f"would for a real-estate listing. {_KEEP_ARCHITECTURE}"
    )


def staging_prompt(style: str, room_type: str) -> str:
    """Provider prompt for virtually staging an empty room of this type in this style."""
    if style not in STAGING_STYLES:
        raise ValueError(f"Unknown staging style {style!r}; choose one of: {', '.join(STAGING_STYLES)}.")
    if room_type not in STAGING_ROOM_TYPES:
        raise ValueError(f"Room type {room_type!r} is not one of: {', '.join(STAGING_ROOM_TYPES)}.")
    return _staging_text(STAGING_STYLES[style], room_type)


def prompt_for(preset: Preset, room_type: str | None = None) -> str:
    """The preset's provider prompt, made specific to a room type where the preset allows one."""
    if room_type is None:
        return preset.prompt
    if room_type not in preset.room_types:
        raise ValueError(f"Room type {room_type!r} is not one of: {', '.join(preset.room_types)}.")
    style = preset.id.removeprefix("virtual-staging-")
    return staging_prompt(style, room_type) if style in STAGING_STYLES else preset.prompt


def _staging_preset(style: str, furnishing: str) -> Preset:
    title = style.replace("-", " ").title().replace("Mid Century", "Mid-century")
    return Preset(
        id=f"virtual-staging-{style}",
        name=f"Virtual staging: {title}",
        description=f"Furnish an empty room with {furnishing}.",
        room_types=STAGING_ROOM_TYPES,
        prompt=_staging_text(furnishing, "room"),
        local_pipeline=None,
        labelled=True,
    )


_PRESETS: tuple[Preset, ...] = (
    Preset("enhance", "Enhance", "White balance, exposure, gentle contrast, vibrance and sharpening in one click.",
           ROOM_TYPES, "Professionally enhance this real-estate photo: balanced white, natural bright exposure, "
           "gentle contrast, true-to-life colours, crisp detail. Change nothing else.",
           (("enhance", {}),)),
    Preset("hdr-interior", "HDR interior", "Open up shadows and keep window views readable, like a bracketed HDR.",
           INTERIOR_ROOM_TYPES, "Give this interior photo a natural HDR look: open the shadows, recover the "
           "window views, balanced bright exposure, no halos. Change nothing else.",
           (("white_balance", {}), ("balance_light", {"shadows": 0.6, "highlights": 0.3}),
            ("auto_exposure", {}), ("contrast", {"amount": 0.1}),
            ("vibrance_and_sharpen", {"vibrance": 0.15, "sharpen": 0.5})), scenes=INTERIOR_SCENES),
    Preset("brighten-dark-room", "Brighten dark room", "Lift an underexposed room to a natural, airy brightness.",
           INTERIOR_ROOM_TYPES, "Brighten this underexposed room to a natural, airy daylight exposure without "
           "blowing out the windows. Change nothing else.",
           (("white_balance", {}), ("auto_exposure", {"target": 0.5}),
            ("balance_light", {"shadows": 0.35, "highlights": 0.0}), ("denoise", {"strength": 0.5}),
            ("vibrance_and_sharpen", {"vibrance": 0.1, "sharpen": 0.4})), scenes=INTERIOR_SCENES),
    Preset("straighten", "Straighten verticals", "Level the camera so walls and door frames stand vertical.",
           ROOM_TYPES, "Straighten this photo so all vertical lines (walls, door frames, windows) are perfectly "
           "vertical, cropping the edges cleanly. Change nothing else.",
           (("straighten", {}),)),
    Preset("blue-sky", "Blue sky", "Replace a grey or washed-out sky with a clean blue one.",
           ("exterior",), "Replace the sky with a clear, natural blue sky with a few soft white clouds; keep the "
           "house, trees and roofline edges exactly as they are.",
           (("blue_sky", {}),), scenes=DAYTIME_EXTERIOR_SCENES),
    Preset("green-lawn", "Green lawn", "Make a dry, patchy lawn look healthy and green.",
           ("exterior",), "Make the lawn look lush, healthy and evenly green; keep everything else unchanged.",
           (("green_lawn", {}),), scenes=DAYTIME_EXTERIOR_SCENES),
    Preset("day-to-dusk", "Day to dusk", "Turn a daytime exterior into an inviting twilight shot.",
           ("exterior",), "Convert this daytime exterior into a twilight photo: deep blue evening sky with a warm "
           "glow at the horizon, warm light glowing from every window, subtle exterior lighting.",
           (("day_to_dusk", {}),), scenes=DAYTIME_EXTERIOR_SCENES),
    Preset("declutter", "Declutter", "Remove clutter and personal items, keeping furniture and architecture.",
           INTERIOR_ROOM_TYPES, "Remove clutter, personal items, cables and small loose objects from this room; "
           f"keep the main furniture. {_KEEP_ARCHITECTURE}", None),
    *(_staging_preset(style, furnishing) for style, furnishing in STAGING_STYLES.items()),
    Preset("empty-room", "Empty the room", "Remove all furniture and decor to show the bare room.",
           INTERIOR_ROOM_TYPES, "Remove all furniture, rugs, decor and objects so the room is completely empty; "
           f"reconstruct the floor and walls behind them. {_KEEP_ARCHITECTURE}", None),
    Preset("paint-walls", "Repaint walls", "Preview the room with freshly painted walls.",
           INTERIOR_ROOM_TYPES, "Repaint the walls in a fresh, light neutral colour with an even matte finish; keep "
           "the trim, ceiling, furniture and everything else unchanged, with natural lighting.", None),
    Preset("renovation-preview", "Renovation preview", "Show what the room could look like renovated.",
           ROOM_TYPES, "Show this space tastefully renovated with modern finishes, updated flooring and fixtures, "
           "keeping the same layout, windows and camera angle; photorealistic.", None),
)

PRESETS: dict[str, Preset] = {preset.id: preset for preset in _PRESETS}


def get_preset(preset_id: str) -> Preset:
    """The preset with this id; UnknownPreset (a ValueError) lists the valid ids."""
    try:
        return PRESETS[preset_id]
    except (KeyError, TypeError):
        raise UnknownPreset(f"Unknown preset {preset_id!r}; valid presets: {', '.join(PRESETS)}.") from None


# Keyword patterns, in the order their operations should run (geometry, tone, scene, detail).
_PROMPT_OPERATIONS: tuple[tuple[str, Step], ...] = (
    (r"straighten|vertical|crooked|tilt(ed)?|wonky", ("straighten", {})),
    (r"enhance|improve|touch[- ]?up|polish|auto[- ]?fix|shine|pop|nicer|better", ("enhance", {})),
    (r"white balance|colou?r cast|too (yellow|orange|blue)|neutral(ise|ize)", ("white_balance", {})),
    (r"bright(er|en)?|lighte(r|n)|too dark|underexposed|exposure", ("auto_exposure", {"target": 0.5})),
    (r"hdr|shadows?|highlights?|backlit|windows? (view|readable)", ("balance_light", {})),
    (r"contrast", ("contrast", {})),
    (r"vibran(t|ce)|saturat\w*|colou?rful|vivid", ("vibrance", {})),
    (r"(blue|clear|replace( the)?|new) sky|sky (blue|replacement)", ("blue_sky", {})),
    (r"green(er)? (lawn|grass)|(lawn|grass) green(er)?|greener|lush", ("green_lawn", {})),
    (r"twilight|dusk|evening|sunset|night", ("day_to_dusk", {})),
    (r"noise|grain|denoise", ("denoise", {})),
    (r"sharp(en|er)?|crisp", ("sharpen", {})),
)
LOCAL_CAPABILITIES = (
    "straighten verticals, enhance, fix white balance, brighten, HDR (open shadows), contrast, vibrance, "
    "blue sky, greener lawn, day to dusk (twilight), reduce noise and sharpen"
)


# Words that join instructions: every piece between them must be something the engine can do.
_CLAUSE_BREAK = re.compile(r"[,;.!?]+|&|\b(?:and|then|also|plus|but|while)\b")
# Pieces that ask for nothing to be done: politeness, or "keep the rest as it is".
_NOTHING_ASKED = re.compile(
    r"(please|pls|thanks?( you)?|(a )?(bit|little|touch|lot) (more)?|more|slightly|natural( looking)?|"
    r"(keep|leave|preserve|don't change|do not change|change nothing|nothing else)\b.*)?"
)
# What a piece the engine does not understand asks for, by its verb; the refusal names it.
_CANNOT = (
    ("add objects", r"add|put|place|insert|include|stage|furnish|decorate"),
    ("remove objects", r"remove|declutter|delete|erase|empty|clear (out|away)|get rid|take (out|away)|hide"),
    ("repaint, replace or renovate things", r"paint|repaint|recolou?r|replace|swap|renovate|redo"),
)
_STEP_WORDS = {
    "straighten": "straighten", "enhance": "enhance", "white_balance": "fix white balance",
    "auto_exposure": "brighten", "balance_light": "open shadows", "contrast": "add contrast",
    "vibrance": "add vibrance", "blue_sky": "put in a blue sky", "green_lawn": "green a lawn",
    "day_to_dusk": "turn day to dusk", "denoise": "reduce noise", "sharpen": "sharpen",
}


def operations_for_prompt(prompt: str) -> list[Step]:
    """Local operations a free-text request asks for; PromptNotSupported unless every part of it is one of them."""
    text = " ".join(str(prompt).lower().split())
    steps = [step for pattern, step in _PROMPT_OPERATIONS if re.search(rf"\b(?:{pattern})\b", text)]
    if not steps:
        raise PromptNotSupported(
            "The built-in engine cannot do that without an AI provider. It can: "
            f"{LOCAL_CAPABILITIES}. Configure an AI provider for other edits."
        )
    for clause in _CLAUSE_BREAK.split(text):
        left_over = _without_operations(clause.strip())
        if left_over and not _NOTHING_ASKED.fullmatch(left_over) and _asks_for_something(clause, left_over):
            raise PromptNotSupported(_part_refused(steps, clause.strip(), left_over))
    return [(name, dict(params)) for name, params in steps]


def _without_operations(clause: str) -> str:
    """The words of a clause left once the operations it names (and filler words) are taken out."""
    for pattern, _step in _PROMPT_OPERATIONS:
        clause = re.sub(rf"\b(?:{pattern})\b", " ", clause)
    filler = r"\b(make|makes|it|its|this|that|the|a|an|room|photo|image|picture|shot|look|looks|looking|fix|up|" \
             r"please|more|bit|little|slightly|much|very|too|overall|some|all|of|to|in|into|give|get|so|is|be)\b"
    return " ".join(re.sub(filler, " ", clause).split())


def _asks_for_something(clause: str, left_over: str) -> bool:
    """A clause with no operation in it asks for something; one with an operation only if it adds a change verb."""
    if left_over == _without_operations(clause) and not any(
        re.search(rf"\b(?:{pattern})\b", clause) for pattern, _step in _PROMPT_OPERATIONS
    ):
        return True
    return any(re.search(rf"\b(?:{verbs})", left_over) for _what, verbs in _CANNOT)


def _part_refused(steps: list[Step], clause: str, left_over: str) -> str:
    """The refusal for a prompt the engine understands only in part: what it can, and what it cannot, do."""
    cannot = next((what for what, verbs in _CANNOT if re.search(rf"\b(?:{verbs})", left_over)), "do all of that")
    can = list(dict.fromkeys(_STEP_WORDS[name] for name, _params in steps))
    can_words = " and ".join([", ".join(can[:-1]), can[-1]] if len(can) > 1 else can)
    return (
        f"The built-in engine can {can_words} but cannot {cannot} (\u201c{clause}\u201d); connect an AI "
        f"service or choose a preset. Without an AI service it can: {LOCAL_CAPABILITIES}."
    )


def with_preset_wording(preset: Preset, words: str) -> str:
    """A caller's words with the preset's own prompt added (its promises, e.g. keep the walls), said once."""
    own = {preset.prompt, *(prompt_for(preset, room) for room in preset.room_types if room in STAGING_ROOM_TYPES)}
    if words in own or preset.prompt in words:
        return words
    return f"{words.rstrip('.')}. {preset.prompt}"
