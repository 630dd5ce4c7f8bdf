"""The offline provider: real photo fixes with Pillow and numpy, no API key needed."""
from PIL import Image

from app.generations.presets import PRESETS, PromptNotSupported, operations_for_prompt
from app.imaging.pipeline import run_pipeline
from app.providers.base import ProgressReport, ProviderRefused, ProviderRequest


class LocalProvider:
    name = "local"

    def steps_for(self, request: ProviderRequest) -> list[tuple[str, dict]]:
        """The pipeline that honours a request, or ProviderRefused saying what the engine can do."""
        if request.preset is not None:
            if request.preset.local_pipeline is None:
                local_presets = ", ".join(p.id for p in PRESETS.values() if p.local_pipeline is not None)
                raise ProviderRefused(
                    f"The '{request.preset.name}' preset needs an AI provider, and none is configured "
                    f"(set FAL_KEY, NANOBANANA_API_KEY or GEMINI_API_KEY). "
                    f"The local engine can do: {local_presets}."
                )
            return list(request.preset.local_pipeline)
        try:
            return operations_for_prompt(request.prompt)
        except PromptNotSupported as refused:
            raise ProviderRefused(str(refused)) from None

    def check(self, request: ProviderRequest) -> None:
        """Refuse, before queueing, what the local engine cannot honestly do."""
        if not request.reference_ids:
            raise ProviderRefused("The local engine edits photos: give it a reference image to work on.")
        self.steps_for(request)

    def run(self, request: ProviderRequest, report: ProgressReport) -> list[Image.Image]:
        """Run the pipeline on each reference photo."""
        steps = self.steps_for(request)
        total = len(steps) * len(request.references) + 1  # the last step is storing the result
        outputs = []
        for index, reference in enumerate(request.references):
            offset = index * len(steps)

            def on_step(done: int, _total: int, message: str, offset=offset) -> None:
                report(offset + done, total, message)

            outputs.append(run_pipeline(reference, steps, on_step=on_step))
        report(total - 1, total, "Saving the result")
        return outputs
