"""The rules a generation request must meet, each raising ApiError with a message a person can act on."""
from app.catalog import limits
from app.catalog.limits import (
    MAX_NUM_IMAGES,
    MAX_PRIORITY,
    MAX_PROMPT_LENGTH,
    MAX_WATERMARK_LENGTH,
    MIN_PRIORITY,
    NUM_IMAGES_RULE,
    PRIORITY_RULE,
    PROMPT_REQUIRED,
    PROMPT_TOO_LONG,
    WATERMARK_RULE,
)
from app.catalog.presets import with_preset_wording
from app.errors import ApiError
from app.images.aliases import ensure_alias_free, validate_alias
from app.imaging.geometry import parse_aspect_ratio
from app.imaging.overlay import DEFAULT_LABEL
from app.projects.models import Project

AUTO_ENHANCE_WORDING = (
    "Professional real-estate photograph, natural light, true-to-life colours, straight verticals, "
    "sharp detail, no people."
)


def check_prompt(prompt, preset, auto_enhance: bool = False) -> str:
    """The prompt an AI model is sent: the caller's words with the preset's own prompt added (never replaced),
    or with listing-photo wording when auto-enhanced; the preset's prompt alone when the caller wrote none."""
    words = caller_words(prompt)
    if words and preset is not None:
        prompt = with_preset_wording(preset, words)
    elif words:
        prompt = f"{words.rstrip('.')}. {AUTO_ENHANCE_WORDING}" if auto_enhance else words
    else:
        prompt = preset.prompt if preset else ""
    if not prompt:
        raise ApiError(PROMPT_REQUIRED)
    if len(prompt) > MAX_PROMPT_LENGTH:
        raise ApiError(PROMPT_TOO_LONG)
    return prompt


def caller_words(prompt) -> str | None:
    """The caller's own prompt, stripped (None when there is none)."""
    if prompt is not None and not isinstance(prompt, str):
        raise ApiError("prompt must be a string.")
    return (prompt or "").strip() or None


def check_size(width, height) -> tuple[int, int] | None:
    """An exact output size in pixels, both sides from 16 to 8192 and at most 10:1; None when none is asked."""
    if width is None and height is None:
        return None
    sides = (width, height)
    if not all(isinstance(side, int) and not isinstance(side, bool) and 16 <= side <= 8192 for side in sides):
        raise ApiError("width and height must be whole numbers of pixels from 16 to 8192, sent together.")
    if max(sides) > 10 * min(sides):
        raise ApiError("width and height may differ at most tenfold (from 1:10 to 10:1).")
    return width, height


def check_aspect_ratio(aspect_ratio) -> str | None:
    if aspect_ratio in (None, ""):
        return None
    try:
        parse_aspect_ratio(aspect_ratio)
    except ValueError:
        raise ApiError("Invalid aspect ratio") from None
    return str(aspect_ratio).strip()


def check_choice(name: str, value, choices) -> str | None:
    if value in (None, ""):
        return None
    normalized = str(value).strip()
    match = next((c for c in choices if c.lower() == normalized.lower()), None)
    if match is None:
        raise ApiError(f"Invalid {name} {value!r}; use one of: {', '.join(choices)}.")
    return match


def check_num_images(num_images, references) -> int:
    """1 to MAX_NUM_IMAGES results; whether the chosen model can make several versions of an edit is its own check."""
    if not isinstance(num_images, int) or isinstance(num_images, bool) or not 1 <= num_images <= MAX_NUM_IMAGES:
        raise ApiError(NUM_IMAGES_RULE)
    return num_images


def check_watermark(watermark, default_label: str | None = None) -> str | None:
    """The label text: none, the default (the workspace's own text when set) for true, or the text given."""
    if watermark in (None, "", False):
        return None
    if watermark is True:
        return default_label or DEFAULT_LABEL
    if not isinstance(watermark, str) or len(watermark.strip()) > MAX_WATERMARK_LENGTH:
        raise ApiError(WATERMARK_RULE)
    return watermark.strip()


def check_priority(priority) -> int:
    if not isinstance(priority, int) or isinstance(priority, bool) or not MIN_PRIORITY <= priority <= MAX_PRIORITY:
        raise ApiError(PRIORITY_RULE)
    return priority


def check_assignments(project: Project, alias, flow_alias) -> None:
    if alias is not None:
        ensure_alias_free(project, validate_alias(alias))
    if flow_alias is not None:
        validate_alias(flow_alias)


def check_meta(meta) -> dict:
    """meta as given (or {}); 400 with the rule when it is not a small, shallow JSON object."""
    problem = limits.meta_problem(meta)
    if problem:
        raise ApiError(problem)
    return meta or {}
