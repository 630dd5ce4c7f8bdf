"""What every image provider offers the generation job."""
from collections.abc import Callable
from dataclasses import dataclass, field

from PIL import Image

from app.catalog.presets import Preset

# (steps done, steps in all, a message for a person)
ProgressReport = Callable[[int, int, str], None]


@dataclass(frozen=True)
class ProviderRequest:
    """The provider-neutral description of one generation."""

    kind: str
    prompt: str
    preset: Preset | None = None
    reference_ids: list[str] = field(default_factory=list)
    # Decoded reference photos, loaded by the job just before the provider runs.
    references: list[Image.Image] = field(default_factory=list)
    aspect_ratio: str | None = None
    resolution: str | None = None
    num_images: int = 1
    focal_point: tuple[float, float] | None = None


@dataclass(frozen=True)
class ProviderResult:
    """What a provider made; placeholder marks stand-in images that are not a real result."""

    images: list[Image.Image]
    placeholder: bool = False


class ProviderError(Exception):
    """A provider could not produce a result; the message is shown to the person who asked."""

    def __init__(self, message: str, code: str = "provider_error", retryable: bool = False):
        super().__init__(message)
        self.message = message
        self.code = code
        self.retryable = retryable


class ProviderRefused(ValueError):
    """A request the provider cannot honour, found before any work is queued."""
