"""AI providers reached over HTTP: one shape (submit, poll, cancel) and one loop that drives it.

An adapter only speaks its provider's wire format. The loop here does what they share: the
upstream request id is remembered (committed) before any waiting, so a worker that dies
while waiting is resumed by the sweeper instead of paying the provider twice; polls follow
the provider's advice (Retry-After) or back off; results are downloaded at once into bytes
(upstream URLs expire) through the SSRF-safe fetcher and decoded before they count.
"""
import time
from collections.abc import Callable
from dataclasses import replace

from flask import current_app

from app import outbound
from app.imaging.errors import ImageRejected
from app.imaging.geometry import crop_to_aspect, nearest_ratio, parse_aspect_ratio
from app.imaging.io import load_photo
from app.providers.base import (
    ModelInfo,
    Outcome,
    ProgressReport,
    ProviderError,
    ProviderRefused,
    ProviderRequest,
    ProviderResult,
    StopRequested,
)

MAX_RESULT_BYTES = 40 * 1024 * 1024
RATIO_TOLERANCE = 0.05  # providers round frames to multiples of 32 or 64 (Gemini 4:5 is 896×1152); not another shape
STEPS = 4  # submitted, waiting, downloading, storing


class RemoteProvider:
    """Base of the AI adapters: configuration, capability checks, and the run loop."""

    name = ""
    label = ""  # how pages name it: "fal.ai", "Google Gemini"
    models: dict[str, ModelInfo] = {}
    default_model = ""

    def __init__(self, api_key: str, base_url: str, timeout: float = 30.0):
        self.api_key, self.base_url, self.timeout = api_key, base_url.rstrip("/"), timeout

    # What each adapter implements, in its provider's own words.
    def submit(self, model: str, request: ProviderRequest) -> tuple[str | None, Outcome | None]:
        """Send the request: the upstream id to remember (None for one-shot APIs) and the outcome if known."""
        raise NotImplementedError

    def poll(self, model: str, upstream_id: str) -> Outcome:
        """Where the upstream request stands now."""
        raise NotImplementedError

    def cancel(self, model: str, upstream_id: str) -> None:
        """Ask the provider to stop (best effort; a provider without cancel does nothing)."""

    # Shared by every adapter.
    def model_info(self, request: ProviderRequest) -> ModelInfo:
        return self.models[request.model or self.default_model]

    def check(self, request: ProviderRequest) -> None:
        """Refuse, before credits are reserved, what the chosen model cannot do."""
        info = self.model_info(request)
        capability = "edit" if request.reference_ids else "text_to_image"
        if capability not in info.capabilities:
            wanted = "edit photos" if capability == "edit" else "make images from a prompt alone"
            raise ProviderRefused(f"The model {info.id} cannot {wanted}; choose another model.")
        if request.resolution and request.resolution not in info.resolutions:
            offered = ", ".join(info.resolutions)
            raise ProviderRefused(f"The model {info.id} offers {offered}, not {request.resolution}.")
        # Any ratio is fine: the model makes its nearest one (frame_ratio), and the result is cropped to the ratio asked.
        if len(request.reference_ids) > info.max_references:
            raise ProviderRefused(f"The model {info.id} takes at most {info.max_references} reference images.")
        if request.num_images > info.max_images:
            raise ProviderRefused(f"The model {info.id} makes at most {info.max_images} images per request.")

    def price_factor(self, request: ProviderRequest) -> int:
        return 1

    def frame_ratio(self, request: ProviderRequest) -> str | None:
        """The ratio the model is asked for: the request's, or the nearest one the model offers."""
        offered = self.model_info(request).aspect_ratios
        if not request.aspect_ratio or offered is None:
            return request.aspect_ratio
        return nearest_ratio(request.aspect_ratio, offered)

    def tiers(self, request: ProviderRequest) -> tuple[str, ...]:
        """The resolution tiers the model makes."""
        return self.model_info(request).resolutions

    def run(self, request: ProviderRequest, report: ProgressReport, remember: Callable[[str], None]) -> ProviderResult:
        """Submit (or resume), wait for the provider, download and decode its results."""
        model = request.model or self.default_model
        request = replace(request, aspect_ratio=self.frame_ratio(request))
        upstream_id, outcome = request.upstream_id, None
        if upstream_id is None:
            report(0, STEPS, f"Sending to {self.label}")
            upstream_id, outcome = self.submit(model, request)
            if upstream_id:
                remember(upstream_id)
        try:
            outcome = self._wait(model, upstream_id, outcome, report)
        except StopRequested:
            # Only a person's cancel stops the upstream work; after a timeout or a lost worker it is resumed.
            if upstream_id:
                self.cancel(model, upstream_id)
            raise
        if outcome.state == "failed":
            raise outcome.error
        report(2, STEPS, "Downloading the result")
        return ProviderResult([as_asked(_decode(data), request) for data in self._download(outcome)])

    def _wait(self, model: str, upstream_id: str | None, outcome: Outcome | None, report: ProgressReport) -> Outcome:
        delay = current_app.config["PROVIDER_POLL_INTERVAL"]
        while outcome is None or outcome.state == "waiting":
            report(1, STEPS, (outcome.message if outcome else "") or f"Working at {self.label}")
            time.sleep(outcome.retry_after if outcome and outcome.retry_after else delay)
            delay = min(delay * 1.5, current_app.config["PROVIDER_POLL_MAX"])
            outcome = self._poll_once(model, upstream_id)
        return outcome

    def _poll_once(self, model: str, upstream_id: str) -> Outcome:
        """One look at the upstream request; a passing hiccup (retryable) is only a reason to look again later."""
        try:
            return self.poll(model, upstream_id)
        except ProviderError as error:
            if not error.retryable:
                raise
            return Outcome.waiting(f"Waiting for {self.label} to answer again", retry_after=error.retry_after)

    def _download(self, outcome: Outcome) -> list[bytes]:
        try:
            fetched = [outbound.fetch(url, max_bytes=MAX_RESULT_BYTES) for url in outcome.image_urls]
        except outbound.OutboundRefused as refused:
            message = f"{self.label} sent a result we may not download: {refused}"
            raise ProviderError(message, code="bad_result") from None
        except outbound.OutboundError as error:
            raise ProviderError(str(error), code="download_failed", retryable=error.retryable) from None
        if not fetched and not outcome.images:
            raise ProviderError(f"{self.label} finished without an image.", code="no_image")
        return fetched + list(outcome.images)

    def outputs(self, request: ProviderRequest) -> int:
        """Images one request makes: AI models combine the references into num_images results."""
        return request.num_images


def read_capped(response, max_bytes: int, who: str) -> bytes:
    """An upstream answer's body, refused once it is larger than max_bytes (as declared or as streamed)."""
    too_large = ProviderError(f"{who} sent an answer too large to accept; we stopped reading it.", code="bad_result")
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise too_large
    chunks, size = [], 0
    for chunk in response.iter_content(chunk_size=64 * 1024):
        size += len(chunk)
        if size > max_bytes:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


def as_asked(image, request: ProviderRequest):
    """The result in the shape the request asked for: a provider that drifts from the aspect ratio is cropped
    to it (around the photo's focal point), so a listing gets the frame it ordered. (Sizes are each model's
    own: Gemini's "1K" at 16:9 is 1344×768, so the long side is not forced to 1024.)"""
    if not request.aspect_ratio:
        return image
    ratio_w, ratio_h = parse_aspect_ratio(request.aspect_ratio)
    if abs(image.width / image.height - ratio_w / ratio_h) > RATIO_TOLERANCE * ratio_w / ratio_h:
        image = crop_to_aspect(image, aspect_ratio=request.aspect_ratio, focal_point=request.focal_point)
    return image


def _decode(data: bytes):
    try:
        return load_photo(data, max_pixels=current_app.config["MAX_IMAGE_PIXELS"]).image
    except ImageRejected as rejected:
        message = f"The provider sent back an image we could not use: {rejected}"
        raise ProviderError(message, code="bad_result") from None
