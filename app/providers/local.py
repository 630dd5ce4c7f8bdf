"""The offline provider: real photo fixes with Pillow and numpy, no API key needed."""
from app.catalog.presets import PRESETS, PromptNotSupported, operations_for_prompt
from app.imaging.geometry import RESOLUTIONS, parse_aspect_ratio
from app.imaging.overlay import render_placeholder
from app.imaging.pipeline import run_pipeline
from app.providers.base import ProgressReport, ProviderRefused, ProviderRequest, ProviderResult


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
            return list(request.preset.local_pipeline)
        try:
            return operations_for_prompt(request.prompt)
        except PromptNotSupported as refused:
            raise ProviderRefused(str(refused)) from None

    def check(self, request: ProviderRequest) -> None:
        """Refuse, before queueing, what the local engine cannot honestly do."""
        if request.reference_ids:
            self.steps_for(request)

    def outputs(self, request: ProviderRequest) -> int:
        """Images one request makes: one per reference photo, or num_images placeholders."""
        return max(1, len(request.reference_ids)) * request.num_images

    def price_factor(self, request: ProviderRequest) -> int:
        """Placeholders are free: they are not a result."""
        return 1 if request.reference_ids else 0

    def run(self, request: ProviderRequest, report: ProgressReport, remember=None) -> ProviderResult:
        """Run the pipeline on each reference photo; without one, render labelled placeholders.

        (`remember` is for providers with an upstream request to resume; the local engine has none.)
        """
        if not request.references:
            report(1, 2, "Rendering a placeholder")
            size = placeholder_size(request.aspect_ratio, request.resolution)
            return ProviderResult([render_placeholder(request.prompt, *size) for _ in range(request.num_images)], True)
        steps = self.steps_for(request)
        total = len(steps) * len(request.references) + 1  # the last step is storing the result
        outputs = []
        for index, reference in enumerate(request.references):
            offset = index * len(steps)

            def on_step(done: int, _total: int, message: str, offset=offset) -> None:
                report(offset + done, total, message)

            outputs.append(run_pipeline(reference, steps, on_step=on_step))
        report(total - 1, total, "Saving the result")
        return ProviderResult(outputs)


def placeholder_size(aspect_ratio: str | None, resolution: str | None) -> tuple[int, int]:
    """Width and height for a placeholder: the long side from the resolution, the shape from the ratio."""
    ratio_w, ratio_h = parse_aspect_ratio(aspect_ratio or "4:3")
    long_side = RESOLUTIONS.get(resolution or "1K", 1024)
    if ratio_w >= ratio_h:
        return long_side, max(16, round(long_side * ratio_h / ratio_w))
    return max(16, round(long_side * ratio_w / ratio_h)), long_side
