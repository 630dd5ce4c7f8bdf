"""Run a named list of imaging operations, reporting progress before each step."""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Callable

from PIL import Image

from app.imaging import detail, exterior, geometry, local_tone, overlay, tilt, tone
from app.imaging.enhance import enhance
from app.imaging.errors import NothingToChange

ProgressCallback = Callable[[int, int, str], None]


@dataclass(frozen=True)
class Edited:
    """An operation's result together with what it did, for the person watching (e.g. the angle straightened)."""

    image: Image.Image
    note: str


Operation = Callable[..., "Image.Image | Edited"]


def _straighten_step(image: Image.Image, *, max_degrees: float = tilt.MAX_TILT_DEGREES) -> Edited:
    straightened, degrees = tilt.level(image, max_degrees=max_degrees)
    direction = "clockwise" if degrees > 0 else "counter-clockwise"
    return Edited(straightened, f"Straightened by {abs(degrees):.1f}° {direction}.")


# Each operation is a pure function (image, **params) -> image (or Edited). Region edits raise
# NothingToChange when they are not sure there is anything to edit; the photo then passes on as it was.
OPERATIONS: dict[str, Operation] = {
    "enhance": enhance,
    "white_balance": tone.white_balance,
    "auto_exposure": tone.auto_exposure,
    "contrast": tone.contrast,
    "balance_light": local_tone.balance_light,
    "vibrance": detail.vibrance,
    "sharpen": detail.sharpen,
    "vibrance_and_sharpen": detail.vibrance_and_sharpen,
    "denoise": detail.denoise,
    "straighten": _straighten_step,
    "blue_sky": exterior.replace_sky,
    "green_lawn": exterior.green_the_lawn,
    "day_to_dusk": exterior.grade_to_dusk,
    "resize": geometry.resize,
    "crop": geometry.crop_to_aspect,
    "watermark": overlay.watermark,
}

STEP_MESSAGES: dict[str, str] = {
    "enhance": "Enhancing",
    "white_balance": "Balancing white",
    "auto_exposure": "Correcting exposure",
    "contrast": "Adding contrast",
    "balance_light": "Balancing light and shadow",
    "vibrance": "Adding vibrance",
    "sharpen": "Sharpening",
    "vibrance_and_sharpen": "Adding vibrance and sharpening",
    "denoise": "Reducing noise",
    "straighten": "Straightening verticals",
    "blue_sky": "Replacing the sky",
    "green_lawn": "Greening the lawn",
    "day_to_dusk": "Grading to dusk",
    "resize": "Resizing",
    "crop": "Cropping",
    "watermark": "Adding label",
}
# Steps that only deliver the photo in the shape asked for; they are not an edit on their own.
DELIVERY_STEPS = frozenset({"resize", "crop", "watermark"})


def validate_steps(steps: list[tuple[str, dict]]) -> None:
    """Raise ValueError for an unknown operation or parameters it does not take."""
    for name, params in steps:
        operation = OPERATIONS.get(name)
        if operation is None:
            known = ", ".join(sorted(OPERATIONS))
            raise ValueError(f"Unknown imaging operation {name!r}; known operations: {known}.")
        try:
            inspect.signature(operation).bind(None, **params)
        except TypeError as exc:
            raise ValueError(f"Bad parameters for imaging operation {name!r}: {exc}.") from exc


@dataclass(frozen=True)
class PipelineResult:
    """The final image, what the steps had to say, and whether any edit changed the photo."""

    image: Image.Image
    notes: tuple[str, ...]
    changed: bool


def run_pipeline(
    image: Image.Image,
    steps: list[tuple[str, dict]],
    on_step: ProgressCallback | None = None,
) -> Image.Image:
    """Apply each (operation, params) in order; on_step(done, total, message) runs before each."""
    return run_steps(image, steps, on_step).image


def run_steps(
    image: Image.Image,
    steps: list[tuple[str, dict]],
    on_step: ProgressCallback | None = None,
) -> PipelineResult:
    """Apply each step, reporting before each and after any that has something to say (an angle, a skip)."""
    steps = list(steps)
    validate_steps(steps)
    report = on_step or (lambda *_: None)
    total = len(steps)
    notes: list[str] = []
    edits = changed = 0
    for done, (name, params) in enumerate(steps):
        report(done, total, STEP_MESSAGES.get(name, name.replace("_", " ").capitalize()))
        edits += name not in DELIVERY_STEPS
        try:
            result = OPERATIONS[name](image, **params)
        except NothingToChange as skipped:
            notes.append(str(skipped))
            report(done + 1, total, str(skipped))
            continue
        changed += name not in DELIVERY_STEPS
        if isinstance(result, Edited):
            notes.append(result.note)
            report(done + 1, total, result.note)
            result = result.image
        image = result
    return PipelineResult(image, tuple(notes), changed > 0 or edits == 0)
