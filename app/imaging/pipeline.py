"""Run a named list of imaging operations, reporting progress before each step."""

from __future__ import annotations

import inspect
from typing import Callable

from PIL import Image

from app.imaging import detail, exterior, geometry, local_tone, overlay, tilt, tone
from app.imaging.enhance import enhance

Operation = Callable[..., Image.Image]
ProgressCallback = Callable[[int, int, str], None]

# Each operation is a pure function (image, **params) -> image.
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
    "straighten": tilt.straighten,
    "blue_sky": exterior.blue_sky,
    "green_lawn": exterior.green_lawn,
    "day_to_dusk": exterior.day_to_dusk,
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


def run_pipeline(
    image: Image.Image,
    steps: list[tuple[str, dict]],
    on_step: ProgressCallback | None = None,
) -> Image.Image:
    """Apply each (operation, params) in order; on_step(done, total, message) runs before each."""
    steps = list(steps)
    validate_steps(steps)
    total = len(steps)
    for done, (name, params) in enumerate(steps):
        if on_step is not None:
            on_step(done, total, STEP_MESSAGES.get(name, name.replace("_", " ").capitalize()))
        image = OPERATIONS[name](image, **params)
    return image
