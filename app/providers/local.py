"""The offline provider: real photo fixes with Pillow and numpy, no API key needed.

It is honest about what it did: a photo the preset is not made for is refused, and a job in
which no edit changed a photo fails (and is refunded) instead of charging for an unchanged photo.
"""
from flask import current_app
from PIL import Image

from app.catalog.presets import (
    PRESETS,
    Preset,
    PromptNotSupported,
    operations_for_prompt,
)
from app.imaging import scene
from app.imaging.geometry import RESOLUTIONS, parse_aspect_ratio
from app.imaging.overlay import render_placeholder
from app.imaging.pipeline import PipelineResult, run_steps
from app.providers.base import (
    ProgressReport,
    ProviderError,
    ProviderRefused,
    ProviderRequest,
    ProviderResult,
)

NEEDS_AI_FOR_TEXT = (
    "Making an image from a prompt alone needs an AI image service, and none that can do it is connected: "
    "ask your Stagecraft administrator to connect fal.ai, nanobananaapi.ai or Google Gemini. "
    "Without one, Stagecraft can edit uploaded photos."
)


class LocalProvider:
    name = "local"

    def steps_for(self, request: ProviderRequest) -> list[tuple[str, dict]]:
        """The pipeline that honours a request, or ProviderRefused saying what the engine can do."""
        steps = self._edit_steps(request)
        if request.aspect_ratio:
            steps.append(("crop", {"aspect_ratio": request.aspect_ratio, "focal_point": request.focal_point}))
        if request.resolution:
            steps.append(("resize", {"resolution": request.resolution}))
        return steps

    def _edit_steps(self, request: ProviderRequest) -> list[tuple[str, dict]]:
        if request.preset is not None:
            if request.preset.local_pipeline is None:
                local_presets = ", ".join(p.name for p in PRESETS.values() if p.local_pipeline is not None)
                raise ProviderRefused(
                    f"'{request.preset.name}' needs an AI image service, and none is connected yet: ask your "
                    "Stagecraft administrator to connect fal.ai, nanobananaapi.ai or Google Gemini. "
                    f"Without one, Stagecraft can do: {local_presets}."
                )
            steps = list(request.preset.local_pipeline)
            words = request.instructions
            if not words or words == request.preset.prompt or not any(char.isalpha() for char in words):
                return steps  # no words of the caller's own, or none that ask for anything
            # Words added to a preset are part of the order too: all of them are done, or none is.
            return steps + [step for step in _operations(words) if step not in steps]
        return _operations(request.instructions or request.prompt)

    def check(self, request: ProviderRequest) -> None:
        """Refuse, before queueing, what the local engine cannot honestly do (all of)."""
        if request.reference_ids:
            if request.num_images != 1:  # its edits are deterministic: a second "version" would be a copy
                raise ProviderRefused(
                    "The built-in engine makes one result per photo; ask for 1 image, or connect an AI service "
                    "for several versions of an edit."
                )
            self.steps_for(request)
        elif not current_app.config["ALLOW_PLACEHOLDERS"]:
            raise ProviderRefused(NEEDS_AI_FOR_TEXT)

    def frame_ratio(self, request: ProviderRequest) -> str | None:
        """The engine crops to any ratio itself."""
        return request.aspect_ratio

    def tiers(self, request: ProviderRequest) -> tuple[str, ...]:
        return tuple(RESOLUTIONS)

    def outputs(self, request: ProviderRequest) -> int:
        """Images one request makes: one per reference photo, or num_images placeholders."""
        return max(1, len(request.reference_ids)) * request.num_images

    def price_factor(self, request: ProviderRequest) -> int:
        """Placeholders are free: they are not a result."""
        return 1 if request.reference_ids else 0

    def run(self, request: ProviderRequest, report: ProgressReport, remember=None) -> ProviderResult:
        """Run the pipeline on each reference photo; without one, render labelled placeholders (ALLOW_PLACEHOLDERS).

        (`remember` is for providers with an upstream request to resume; the local engine has none.)
        """
        if not request.references:
            report(1, 2, "Rendering a placeholder")
            size = placeholder_size(request.aspect_ratio, request.resolution)
            return ProviderResult([render_placeholder(request.prompt, *size) for _ in range(request.num_images)], True)
        steps = self.steps_for(request)
        if request.preset is not None:
            for index, reference in enumerate(request.references):
                refuse_unsuitable(request.preset, reference, _which(index, len(request.references)))
        total = len(steps) * len(request.references) + 1  # the last step is storing the result
        results: list[PipelineResult] = []
        for index, reference in enumerate(request.references):
            offset = index * len(steps)

            def on_step(done: int, _total: int, message: str, offset=offset) -> None:
                report(offset + done, total, message)

            results.append(run_steps(reference, steps, on_step=on_step))
        for index, result in enumerate(results):
            if not result.changed:
                reason = " ".join(result.notes) or "Nothing in it needed changing."
                message = f"{_which(index, len(results))}{reason} No credits were used."
                raise ProviderError(message, code="nothing_changed")
        report(total - 1, total, "Saving the result")
        notes = tuple(note for result in results for note in result.notes)
        return ProviderResult([result.image for result in results], notes=notes)


def _operations(words: str) -> list[tuple[str, dict]]:
    try:
        return operations_for_prompt(words)
    except PromptNotSupported as refused:
        raise ProviderRefused(str(refused)) from None


def _which(index: int, count: int) -> str:
    return f"Photo {index + 1} of {count}: " if count > 1 else ""


def refuse_unsuitable(preset: Preset, photo: Image.Image, prefix: str = "") -> None:
    """ProviderError when the photo is clearly a scene the preset is not made for (e.g. an exterior to brighten).

    No sky is no proof of an interior, so exterior presets leave "interior" photos to their own
    checks ("no sky found"); a found sky, or a twilight sky, is proof of an exterior.
    """
    kind = scene.classify(photo)
    if kind in preset.scenes or (kind == scene.INTERIOR and "exterior" in preset.scenes):
        return
    suits = " or ".join(scene.SCENE_WORDS[name] for name in preset.scenes)
    raise ProviderError(
        f"{prefix}'{preset.name}' is made for {suits}, and this photo looks like {scene.SCENE_WORDS[kind]}, "
        "so it was left as it was. No credits were used; try 'Enhance' instead.",
        code="unsuitable_photo",
    )


def placeholder_size(aspect_ratio: str | None, resolution: str | None) -> tuple[int, int]:
    """Width and height for a placeholder: the long side from the resolution, the shape from the ratio."""
    ratio_w, ratio_h = parse_aspect_ratio(aspect_ratio or "4:3")
    long_side = RESOLUTIONS.get(resolution or "1K", 1024)
    if ratio_w >= ratio_h:
        return long_side, max(16, round(long_side * ratio_h / ratio_w))
    return max(16, round(long_side * ratio_w / ratio_h)), long_side
