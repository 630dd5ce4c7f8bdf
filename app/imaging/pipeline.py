"""Run a named list of imaging operations, reporting progress before each step."""

from __future__ import annotations

import inspect
from typing import Callable

from PIL import Image

from app.imaging import detail, tone

Operation = Callable[..., Image.Image]
ProgressCallback = Callable[[int, int, str], None]

ENHANCE_STEPS: tuple[tuple[str, dict], ...] = (
    ("white_balance", {}),
    ("auto_exposure", {}),
    ("contrast_vibrance", {}),
    ("denoise", {"strength": 0.3}),
    ("sharpen", {}),
)


def enhance(image: Image.Image) -> Image.Image:
    """One-click listing enhancement: white balance, exposure, contrast/vibrance, clean-up, sharpening."""
    return run_pipeline(image, list(ENHANCE_STEPS))


OPERATIONS: dict[str, Operation] = {
    "white_balance": tone.white_balance,
    "auto_exposure": tone.auto_exposure,
    "contrast_vibrance": tone.contrast_vibrance,
    "denoise": detail.denoise,
    "sharpen": detail.sharpen,
    "enhance": enhance,
}

STEP_MESSAGES: dict[str, str] = {
    "white_balance": "Balancing white",
    "auto_exposure": "Correcting exposure",
    "contrast_vibrance": "Adding contrast and vibrance",
    "denoise": "Reducing noise",
    "sharpen": "Sharpening",
    "enhance": "Enhancing",
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
