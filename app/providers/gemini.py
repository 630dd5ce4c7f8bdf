"""Google Gemini image models (Nano Banana): one synchronous generateContent call per image.

Wire format (Gemini API, v1beta): POST {base}/v1beta/models/<model>:generateContent with the key in
x-goog-api-key; the prompt and the reference photos (inline, base64) go in contents[0].parts, the
output shape in generationConfig.imageConfig. The answer holds the image inline; Gemini 3 models
may first send "thought" images (drafts), which are never the result. Refusals arrive as HTTP 200:
promptFeedback.blockReason, a finishReason such as IMAGE_SAFETY, or text without an image.

Choices: one image per request (Gemini makes one per call; asking for more is refused in check()
rather than looping paid calls); prices in credits per 1K image at 1 credit ≈ 1 US cent, rounded
up from Google's published prices ($0.039 flash, $0.134 3 Pro).
"""
import base64
import binascii
import json

import requests

from app.imaging.io import encode_image
from app.providers.base import ModelInfo, Outcome, ProviderError, ProviderRefused, ProviderRequest
from app.providers.remote import MAX_RESULT_BYTES, RemoteProvider, read_capped

ASPECT_RATIOS = ("1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9")
BOTH = frozenset({"text_to_image", "edit"})
FLASH, PRO = "gemini-2.5-flash-image", "gemini-3-pro-image-preview"
# Only Gemini 3 image models accept imageConfig.imageSize.
SIZED_MODELS = {PRO}

# Base64 inflates by 4/3: a 40 MB image arrives as ~54 MB of JSON.
MAX_RESPONSE_BYTES = MAX_RESULT_BYTES * 4 // 3 + 4 * 1024 * 1024
# Gemini takes at most 20 MB of inline data per request; photos are sent no larger than the model reads.
MAX_REQUEST_BYTES = 20 * 1024 * 1024
MAX_REFERENCE_SIDE = 3072
RETRYABLE_STATUSES = {429, 500, 502, 503, 504}
POLICY_REASONS = {
    "SAFETY", "PROHIBITED_CONTENT", "BLOCKLIST", "SPII", "RECITATION",
    "IMAGE_SAFETY", "IMAGE_PROHIBITED_CONTENT", "IMAGE_RECITATION",
}
TRY_AGAIN = "Try a different photo or wording."


class RetryLater(ProviderError):
    """A retryable failure carrying the provider's advice (seconds) on when to try again."""

    def __init__(self, message: str, code: str, retry_after: float | None = None):
        super().__init__(message, code=code, retryable=True, retry_after=retry_after)


class GeminiProvider(RemoteProvider):
    name = "gemini"
    label = "Google Gemini"
    models = {
        FLASH: ModelInfo(FLASH, BOTH, ("1K",), ASPECT_RATIOS, max_images=1, max_references=3, price=4),
        PRO: ModelInfo(PRO, BOTH, ("1K", "2K", "4K"), ASPECT_RATIOS, max_images=1, max_references=14, price=14),
    }
    default_model = FLASH

    def __init__(self, api_key: str, base_url: str, timeout: float = 30.0, read_timeout: float | None = None):
        super().__init__(api_key, base_url, timeout)
        # A Gemini 3 Pro image at 4K can take over a minute to make; connecting is bounded by `timeout`.
        self.read_timeout = read_timeout or 6 * timeout

    def check(self, request: ProviderRequest) -> None:
        if request.num_images > 1:
            raise ProviderRefused(
                f"{self.label} makes one image per request; ask for 1 image, "
                "and send the request again for another version."
            )
        super().check(request)

    def submit(self, model: str, request: ProviderRequest) -> tuple[None, Outcome]:
        """Make the image in one call: Gemini has no request id to remember, so a result is done or failed at once."""
        try:
            body = self._post(model, request_body(model, request))
        except ProviderError as error:
            return None, Outcome.failed(error)
        return None, read_answer(body)

    def generate_content(self, model: str, body: dict) -> dict:
        """One generateContent call with any body (the photo analyzer's JSON-schema requests); errors as ProviderError."""
        return self._post(model, json.dumps(body).encode())

    def _post(self, model: str, payload: bytes) -> dict:
        if len(payload) > MAX_REQUEST_BYTES:
            raise ProviderError(
                f"The photos are too large to send to {self.label} together (over 20 MB); use fewer reference photos.",
                code="invalid_input",
            )
        url = f"{self.base_url}/v1beta/models/{model}:generateContent"
        headers = {"x-goog-api-key": self.api_key, "Content-Type": "application/json"}
        try:
            with requests.post(url, data=payload, headers=headers, timeout=(self.timeout, self.read_timeout),
                               stream=True) as response:
                raw = read_capped(response, MAX_RESPONSE_BYTES, self.label)
                if response.status_code != 200:
                    raise self._http_error(response.status_code, response.headers, _json_or_empty(raw))
        except requests.Timeout:
            raise RetryLater(f"{self.label} did not answer within {self.read_timeout:g} seconds.", "timeout") from None
        except requests.RequestException as failure:
            unreachable = f"Could not reach {self.label} ({type(failure).__name__})."
            raise RetryLater(unreachable, "provider_unavailable") from None
        body = _json_or_empty(raw)
        if not body:
            raise ProviderError(f"{self.label} sent back an answer we could not read.", code="bad_result")
        return body

    def _http_error(self, status: int, headers, body: dict) -> ProviderError:
        error = body.get("error") if isinstance(body.get("error"), dict) else {}
        api_status = error.get("status") or ""
        described = f"HTTP {status}{' ' + api_status if api_status else ''}"
        if status in (401, 403) or _reason(error) == "API_KEY_INVALID":
            # Google's own text is left out: some of its auth errors quote the key.
            return ProviderError(
                f"{self.label} did not accept Stagecraft's key ({described}); ask your administrator to check the "
                "Gemini connection (the key, and that the Generative Language API is enabled for its Google project).",
                code="provider_auth",
            )
        message = (error.get("message") or "").replace(self.api_key, "[key]")[:300]
        if status == 429:
            wait = retry_after(headers, error)
            advice = f" Google asked us to wait {wait:.0f} seconds." if wait else ""
            limited = f"{self.label} is rate-limiting our requests ({described}).{advice}"
            return RetryLater(limited, "rate_limited", wait)
        if status in RETRYABLE_STATUSES:
            unavailable = f"{self.label} is unavailable right now ({described})."
            return RetryLater(unavailable, "provider_unavailable", retry_after(headers, error))
        if status == 400:
            return ProviderError(f"{self.label} refused the request: {message or described}", code="invalid_request")
        failed = f"{self.label} failed ({described}): {message or 'no details given'}"
        return ProviderError(failed, code="provider_error")


def request_body(model: str, request: ProviderRequest) -> bytes:
    """The generateContent body: the prompt, then each reference photo inline, and the output shape."""
    prompt = request.prompt or (request.preset.prompt if request.preset else "")
    parts = [{"text": prompt}]
    for reference in request.references:
        data = base64.b64encode(encode_image(_fit(reference), "JPEG")).decode("ascii")
        parts.append({"inline_data": {"mime_type": "image/jpeg", "data": data}})
    image_config = {}
    if request.aspect_ratio:
        image_config["aspectRatio"] = request.aspect_ratio
    if request.resolution and model in SIZED_MODELS:
        image_config["imageSize"] = request.resolution
    # TEXT as well as IMAGE: when Gemini will not draw, its text says why, and we pass that on.
    config = {"responseModalities": ["TEXT", "IMAGE"]}
    if image_config:
        config["imageConfig"] = image_config
    return json.dumps({"contents": [{"parts": parts}], "generationConfig": config}).encode()


def read_answer(body: dict) -> Outcome:
    """The final image of a 200 answer, or why there is none (refusals are final: asking again gets the same)."""
    blocked = (body.get("promptFeedback") or {}).get("blockReason")
    if blocked:
        return _failed(f"Gemini declined this request ({blocked}). {TRY_AGAIN}", "content_policy")
    candidates = body.get("candidates") or []
    if not candidates:
        return _failed("Gemini sent back no result. Try again, or describe the change differently.", "no_image")
    candidate = candidates[0]
    answer = [part for part in (candidate.get("content") or {}).get("parts") or [] if not part.get("thought")]
    images = [part.get("inlineData") or part.get("inline_data") for part in answer]
    images = [inline for inline in images if inline and inline.get("data")]
    said = " ".join(part["text"].strip() for part in answer if part.get("text")).strip()
    quoted = f' Gemini said: "{said[:300]}"' if said else ""
    reason = candidate.get("finishReason") or "no image"
    if images:
        # The last image is the finished one; earlier ones would be drafts.
        return _decoded(images[-1])
    if reason in POLICY_REASONS:
        return _failed(f"Gemini declined to make this image ({reason}). {TRY_AGAIN}{quoted}", "content_policy")
    no_image = f"Gemini answered without an image ({reason}). Try again, or describe the change more plainly."
    return _failed(no_image + quoted, "no_image")


def retry_after(headers, error: dict) -> float | None:
    """Seconds to wait: the Retry-After header, else the RetryInfo.retryDelay ("38s") Google puts in error details."""
    for value in [headers.get("Retry-After"), *_retry_delays(error)]:
        try:
            return max(0.0, float(str(value).rstrip("s")))
        except (TypeError, ValueError):
            continue
    return None


def _retry_delays(error: dict) -> list:
    return [detail.get("retryDelay") for detail in error.get("details") or [] if isinstance(detail, dict)]


def _reason(error: dict) -> str | None:
    return next((d.get("reason") for d in error.get("details") or [] if isinstance(d, dict) and d.get("reason")), None)


def _decoded(inline: dict) -> Outcome:
    try:
        data = base64.b64decode(inline["data"], validate=True)
    except (binascii.Error, ValueError, TypeError):
        return _failed("Gemini sent back an image we could not decode.", "bad_result")
    if len(data) > MAX_RESULT_BYTES:
        return _failed("Gemini sent back an image larger than we accept.", "bad_result")
    return Outcome.done(images=[data])


def _failed(message: str, code: str) -> Outcome:
    return Outcome.failed(ProviderError(message, code=code, retryable=False))


def _fit(image):
    """The photo at most MAX_REFERENCE_SIDE on its long side (Gemini reads inputs at far less)."""
    if max(image.size) <= MAX_REFERENCE_SIDE:
        return image
    smaller = image.copy()
    smaller.thumbnail((MAX_REFERENCE_SIDE, MAX_REFERENCE_SIDE))
    return smaller


def _json_or_empty(raw: bytes) -> dict:
    try:
        body = json.loads(raw)
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
