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
    prompt: str  # what an AI model is sent: the caller's words with the preset's wording
    preset: Preset | None = None
    # The caller's own words (no preset or auto-enhance wording): what the built-in engine must do all of.
    instructions: str | None = None
    reference_ids: list[str] = field(default_factory=list)
    # Decoded reference photos, loaded by the job just before the provider runs.
    references: list[Image.Image] = field(default_factory=list)
    aspect_ratio: str | None = None
    resolution: str | None = None
    num_images: int = 1
    focal_point: tuple[float, float] | None = None
    # For AI providers: the model asked for, the references as signed absolute URLs (for
    # upstreams that fetch inputs themselves), and the upstream request to resume, if any.
    model: str | None = None
    reference_urls: list[str] = field(default_factory=list)
    upstream_id: str | None = None


@dataclass(frozen=True)
class ProviderResult:
    """What a provider made; placeholder marks stand-in images that are not a real result."""

    images: list[Image.Image]
    placeholder: bool = False
    # What the provider has to say about the result, for the person (e.g. "Straightened by 4.1° clockwise").
    notes: tuple[str, ...] = ()


class ProviderError(Exception):
    """A provider could not produce a result; the message is shown to the person who asked."""

    def __init__(self, message: str, code: str = "provider_error", retryable: bool = False, retry_after=None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.retryable = retryable
        # The provider's advice, in seconds, on when another attempt may succeed.
        self.retry_after = retry_after


class StopRequested(Exception):
    """Raised through a provider's run by its progress report when the person who asked wants it stopped."""


class ProviderRefused(ValueError):
    """A request the provider cannot honour, found before any work is queued."""


@dataclass(frozen=True)
class ModelInfo:
    """What one model can do and what it costs; requests it cannot do are refused before credits move."""

    id: str
    capabilities: frozenset[str]  # of "text_to_image", "edit"
    resolutions: tuple[str, ...] = ("1K",)
    aspect_ratios: tuple[str, ...] | None = None  # None: whatever the request asks
    max_images: int = 4
    max_references: int = 8
    price: int = 4  # credits per output image at 1K (2K costs ×2, 4K ×4)


@dataclass(frozen=True)
class Outcome:
    """Where an upstream request stands: still waiting, done with its images, or failed."""

    state: str  # "waiting", "done" or "failed"
    message: str = ""  # for the person watching, e.g. "In the provider's queue (position 3)"
    image_urls: tuple[str, ...] = ()  # results to download into our storage (done)
    images: tuple[bytes, ...] = ()  # results sent inline (done)
    error: ProviderError | None = None  # why it failed (failed)
    retry_after: float | None = None  # the provider's advice on when to look again

    @classmethod
    def waiting(cls, message: str = "", retry_after: float | None = None) -> "Outcome":
        return cls("waiting", message=message, retry_after=retry_after)

    @classmethod
    def done(cls, image_urls=(), images=()) -> "Outcome":
        return cls("done", image_urls=tuple(image_urls), images=tuple(images))

    @classmethod
    def failed(cls, error: ProviderError) -> "Outcome":
        return cls("failed", error=error)
