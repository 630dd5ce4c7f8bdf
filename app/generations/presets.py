"""Preset catalogue (minimal bootstrap; the full catalogue replaces this file)."""
from dataclasses import dataclass


class UnknownPreset(ValueError):
    pass


class PromptNotSupported(ValueError):
    pass


@dataclass(frozen=True)
class Preset:
    id: str
    name: str
    description: str
    room_types: tuple = ()
    prompt: str = ""
    local_pipeline: tuple | None = None
    credits: int = 1
    kind: str = "edit"

    @property
    def needs_ai_provider(self) -> bool:
        return self.local_pipeline is None


PRESETS = {
    "enhance": Preset("enhance", "Enhance", "One-click fix", prompt="Enhance this photo", local_pipeline=(("enhance", {}),)),
    "declutter": Preset("declutter", "Declutter", "Remove clutter", prompt="Remove clutter"),
}


def get_preset(preset_id):
    try:
        return PRESETS[preset_id]
    except KeyError:
        raise UnknownPreset(f"Unknown preset '{preset_id}'. Valid presets: {', '.join(PRESETS)}.") from None


def operations_for_prompt(prompt):
    if "enhance" in prompt.lower():
        return [("enhance", {})]
    raise PromptNotSupported("The local engine can: enhance.")
