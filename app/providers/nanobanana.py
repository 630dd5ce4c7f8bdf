"""nanobananaapi.ai: the NanoBanana model, submitted to /generate and polled through /record-info.

The wire format, as docs.nanobananaapi.ai documents it (nanobanana-api/generate-or-edit-image,
get-task-details, generate-or-edit-image-callbacks):

- ``POST /api/v1/nanobanana/generate`` with ``prompt``, ``type`` (``TEXTTOIAMGE`` or ``IMAGETOIAMGE``,
  misspelled in the API itself), ``callBackUrl`` (required even when polling), ``numImages`` (1-4),
  ``imageUrls`` (public URLs the provider downloads) and ``image_size`` (an aspect ratio).
- ``GET /api/v1/nanobanana/record-info?taskId=…``: ``data.successFlag`` 0 generating, 1 success,
  2 create task failed, 3 generation failed; ``data.response.resultImageUrl`` (kept on their server)
  and ``originImageUrl`` (valid ten minutes); ``data.errorCode`` / ``data.errorMessage`` on failure.
- ``GET /api/v1/common/credit``: the account's remaining credits in ``data``.

Every answer is ``{code, msg, data}`` and the body's ``code`` decides, not the HTTP status: errors such
as 402 arrive with HTTP 200. When a task ends, nanobanana POSTs
``{code, msg, data: {taskId, info: {resultImageUrl}}}`` to ``callBackUrl``; we point it at
CALLBACK_PATH on our public base URL, a route the webhooks feature serves.
"""
import json

import requests

from app import urls
from app.providers.base import ModelInfo, Outcome, ProviderError, ProviderRequest
from app.providers.remote import RemoteProvider, read_capped

CALLBACK_PATH = "/webhooks/nanobanana"
MAX_JSON_BYTES = 1024 * 1024
# image_size values the generate endpoint documents.
ASPECT_RATIOS = ("1:1", "9:16", "16:9", "3:4", "4:3", "3:2", "2:3", "5:4", "4:5", "21:9")
TEXT_TO_IMAGE, IMAGE_TO_IMAGE = "TEXTTOIAMGE", "IMAGETOIAMGE"  # sic: the API's own spelling
GENERATING, SUCCESS, CREATE_TASK_FAILED, GENERATE_FAILED = 0, 1, 2, 3

# Documented body codes other than 200: (what a person can do about it, our error code, retryable).
FAILURES = {
    401: (
        "nanobanana did not accept Stagecraft's key; ask your administrator to check the nanobanana connection.",
        "provider_auth", False,
    ),
    402: ("The nanobanana account is out of credits; an admin needs to top it up.", "provider_out_of_credits", False),
    404: ("nanobanana does not know this request ({msg}).", "provider_not_found", False),
    422: ("nanobanana rejected the request: {msg}", "provider_rejected", False),
    429: ("nanobanana is rate limiting us; the generation will be tried again shortly.", "provider_busy", True),
    455: ("nanobanana is down for maintenance; the generation will be tried again.", "provider_unavailable", True),
    500: ("nanobanana had an internal error; the generation will be tried again.", "provider_unavailable", True),
    501: ("nanobanana could not generate the image: {msg}", "generation_failed", False),
    505: ("nanobanana has disabled this feature for now: {msg}", "provider_feature_disabled", False),
}


class NanobananaProvider(RemoteProvider):
    """The NanoBanana model at nanobananaapi.ai (text to image, and edits of our photos by URL)."""

    name = "nanobanana"
    label = "nanobanana"
    # Price: the docs state none per request, so the house default of 4 credits per image stands.
    models = {
        "nanobanana": ModelInfo(
            id="nanobanana",
            capabilities=frozenset({"text_to_image", "edit"}),
            resolutions=("1K",),
            aspect_ratios=ASPECT_RATIOS,
            max_images=4,
            price=4,
        )
    }
    default_model = "nanobanana"

    def submit(self, model: str, request: ProviderRequest) -> tuple[str, None]:
        """Create the task; its taskId is what we poll (and what the callback names)."""
        data = self._call("POST", "/api/v1/nanobanana/generate", json=generate_body(request))
        task_id = data.get("taskId") if isinstance(data, dict) else None
        if not task_id:
            # Not retryable: the task may exist and be paid for; a second submit would pay again.
            raise ProviderError("nanobanana accepted the request but sent no taskId.", "provider_bad_answer")
        return str(task_id), None

    def poll(self, model: str, upstream_id: str) -> Outcome:
        data = self._call("GET", "/api/v1/nanobanana/record-info", params={"taskId": upstream_id})
        return task_outcome(data if isinstance(data, dict) else {})

    def credit_balance(self) -> float | int:
        """The credits left on the nanobanana account (for admins)."""
        data = self._call("GET", "/api/v1/common/credit")
        if isinstance(data, bool) or not isinstance(data, int | float):
            raise ProviderError("nanobanana answered the credit query without a number.", "provider_bad_answer")
        return data

    def _call(self, method: str, path: str, **kwargs):
        """One API call: the envelope's data when its code is 200, a ProviderError a person can act on otherwise."""
        try:
            with requests.request(
                method, self.base_url + path, headers={"Authorization": f"Bearer {self.api_key}"},
                timeout=(min(self.timeout, 10.0), self.timeout), stream=True, **kwargs,
            ) as response:
                raw, status = read_capped(response, MAX_JSON_BYTES, self.label), response.status_code
        except (requests.Timeout, requests.ConnectionError, requests.exceptions.ChunkedEncodingError):
            message = "Could not reach nanobanana; this is usually a passing network problem."
            raise ProviderError(message, "provider_unreachable", retryable=True) from None
        return envelope_data(status, raw)


def generate_body(request: ProviderRequest) -> dict:
    """The JSON the generate endpoint documents, from a provider-neutral request."""
    if request.reference_ids and not request.reference_urls:
        # Without URLs nanobanana would make an unrelated image from the prompt alone, and charge for it.
        raise ProviderError("The photo to edit has no public URL to hand to nanobanana.", "missing_reference_urls")
    body = {
        "prompt": request.prompt,
        "type": IMAGE_TO_IMAGE if request.reference_urls else TEXT_TO_IMAGE,
        "callBackUrl": urls.absolute(CALLBACK_PATH),
        "numImages": request.num_images,
    }
    if request.reference_urls:
        body["imageUrls"] = list(request.reference_urls)
    if request.aspect_ratio:
        body["image_size"] = request.aspect_ratio
    # No "watermark": ours is applied after the result is stored, when the generation asks for one.
    return body


def envelope_data(status: int, raw: bytes):
    """Unwrap {code, msg, data}; the body's code decides, the HTTP status only when there is no envelope."""
    try:
        body = json.loads(raw)
    except ValueError:
        body = None
    if not isinstance(body, dict) or "code" not in body:
        raise_for_code(status if status != 200 else 500, f"HTTP {status} without a nanobanana reply")
    if body["code"] != 200:
        raise_for_code(body["code"], str(body.get("msg") or "no message"))
    return body.get("data")


def raise_for_code(code, msg: str):
    """The ProviderError for a body code other than 200."""
    if code in FAILURES:
        message, error_code, retryable = FAILURES[code]
        raise ProviderError(message.format(msg=msg), error_code, retryable)
    retryable = isinstance(code, int) and code >= 500
    raise ProviderError(f"nanobanana answered code {code}: {msg}", "provider_error", retryable)


def task_outcome(data: dict) -> Outcome:
    """Where a task stands, from record-info's data."""
    flag = data.get("successFlag")
    if flag == GENERATING:
        return Outcome.waiting(message="Generating at nanobanana")
    if flag == SUCCESS:
        return Outcome.done(image_urls=result_urls(data.get("response") or {}))
    if flag in (CREATE_TASK_FAILED, GENERATE_FAILED):
        reason = data.get("errorMessage") or "no reason given"
        stage = "could not start the task" if flag == CREATE_TASK_FAILED else "could not generate the image"
        return Outcome.failed(ProviderError(f"nanobanana {stage}: {reason}", "generation_failed"))
    return Outcome.failed(ProviderError(f"nanobanana reported an unknown task state {flag!r}.", "provider_bad_answer"))


def result_urls(response: dict) -> list[str]:
    """The result images: resultImageUrl lasts on their server; originImageUrl expires after ten minutes."""
    for field in ("resultImageUrl", "originImageUrl"):
        value = response.get(field)
        found = [value] if isinstance(value, str) else [url for url in value or () if isinstance(url, str)]
        if found:
            return found
    return []
