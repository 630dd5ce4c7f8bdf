"""fal.ai through its queue (https://queue.fal.run): submit a model's input, poll its status, read its result.

Wire format as fal documents it: the Queue API reference (fal.ai/docs/inference-api/queue/…), the
errors reference (docs.fal.ai/errors) and the model pages (fal.ai/models/fal-ai/nano-banana-pro/edit).
The upstream id we remember is the response_url fal returned: status and cancel live under it
(…/requests/<id>/status and …/cancel, on owner/app only, whatever subpath the input went to), so a
resumed job follows fal's own URL and never builds one from the model id. Our key only ever goes to
the configured queue host. Webhook mode (?fal_webhook=) is not used: this adapter polls.
"""
import base64
import json
from typing import NamedTuple
from urllib.parse import urlsplit

import requests

from app.imaging.io import encode_image
from app.providers.base import ModelInfo, Outcome, ProviderError, ProviderRequest
from app.providers.remote import RemoteProvider, read_capped

EDIT_MODEL = "fal-ai/nano-banana-pro/edit"
TEXT_MODEL = "fal-ai/nano-banana-pro"
ASPECT_RATIOS = ("auto", "21:9", "16:9", "3:2", "4:3", "5:4", "1:1", "4:5", "3:4", "2:3", "9:16")
RESOLUTIONS = ("1K", "2K", "4K")
# fal charges $0.15 an image at 1K and 2K and twice that at 4K; we keep the catalogue's 4 credits at 1K.
MODELS = {
    EDIT_MODEL: ModelInfo(EDIT_MODEL, frozenset({"edit"}), RESOLUTIONS, ASPECT_RATIOS, max_images=4, price=4),
    TEXT_MODEL: ModelInfo(TEXT_MODEL, frozenset({"text_to_image"}), RESOLUTIONS, ASPECT_RATIOS, max_images=4,
                          max_references=0, price=4),
}
# Without a ratio an edit keeps the photo's shape ("auto"); a new image is a landscape listing photo.
TEXT_DEFAULT_ASPECT = "4:3"
# Nano Banana Pro makes at most 4K, so larger references only make the request heavier.
REFERENCE_LONG_SIDE = 4096
MAX_JSON_BYTES = 1024 * 1024  # queue answers are small; anything bigger is not fal's queue talking
CONNECT_TIMEOUT = 10.0
# fal keeps a result for an hour (6 minutes when it is 10 KB or more), then forgets the request.
LOST = "fal.ai no longer has this request (it keeps results only for a while). Please run the generation again."
INPUT_IMAGE_ERRORS = {"file_download_error", "image_load_error", "image_too_large", "image_too_small", "file_too_large"}


class Reply(NamedTuple):
    code: int
    headers: dict
    body: dict


class FalProvider(RemoteProvider):
    """Nano Banana Pro (edit and text to image) on fal.ai's queue."""

    name = "fal"
    label = "fal.ai"
    models = MODELS
    default_model = EDIT_MODEL

    def submit(self, model: str, request: ProviderRequest) -> tuple[str, None]:
        reply = self._send("POST", f"{self.base_url}/{model}", json=fal_input(model, request))
        if reply.code != 200:
            raise self._failure(reply, lost=f"fal.ai does not offer the model {model}.")
        response_url = reply.body.get("response_url")
        if not isinstance(response_url, str):
            raise ProviderError("fal.ai accepted the request but sent no address to follow it.", code="provider_error")
        self._own(response_url)
        return response_url, None

    def poll(self, model: str, upstream_id: str) -> Outcome:
        try:
            status = self._send("GET", self._own(upstream_id) + "/status")
        except ProviderError as trouble:
            return _waiting_or_failed(trouble)
        if status.code == 429 or status.code >= 500:
            return Outcome.waiting("fal.ai is busy; checking again shortly", retry_after=retry_after(status))
        if status.code not in (200, 202):
            return Outcome.failed(self._failure(status))
        state = status.body.get("status")
        if state == "IN_QUEUE":
            return Outcome.waiting(f"In fal's queue (position {status.body.get('queue_position', 0)})")
        if state == "IN_PROGRESS":
            return Outcome.waiting("Generating at fal")
        return self._result(upstream_id)

    def cancel(self, model: str, upstream_id: str) -> None:
        try:
            self._send("PUT", self._own(upstream_id) + "/cancel")
        except ProviderError:
            pass  # best effort: 202 CANCELLATION_REQUESTED, or 400 ALREADY_COMPLETED, or fal is unreachable

    def _result(self, response_url: str) -> Outcome:
        """The finished request's output: fal answers with the model's own status code and body."""
        try:
            reply = self._send("GET", response_url)
        except ProviderError as trouble:
            return _waiting_or_failed(trouble)
        if reply.code == 200:
            return Outcome.done(image_urls=_image_urls(reply.body))
        if reply.code in (400, 429):  # 400: not done after all
            return Outcome.waiting("Generating at fal", retry_after=retry_after(reply))
        return Outcome.failed(self._failure(reply))

    def _failure(self, reply: Reply, lost: str = LOST) -> ProviderError:
        """What a refusal from fal means for the person who asked, and whether trying again may help."""
        if reply.code in (401, 403):
            return ProviderError(
                f"fal.ai did not accept Stagecraft's key (HTTP {reply.code}); "
                "ask your administrator to check the fal.ai connection.",
                code="provider_auth",
            )
        if reply.code == 429:
            wait = retry_after(reply)
            advice = f"; it asked us to wait {wait:g} s" if wait else ""
            return ProviderError(f"fal.ai is limiting how fast we send work{advice}.", code="rate_limited",
                                 retryable=True)
        retryable = reply.headers.get("X-Fal-Retryable", "true" if reply.code >= 500 else "false").lower() == "true"
        if reply.code == 422:
            return model_error(_details(reply.body), retryable)
        if reply.code == 404:
            return ProviderError(lost, code="upstream_lost")
        return ProviderError(f"fal.ai could not finish the request (HTTP {reply.code}): {_detail_text(reply.body)}",
                             code="provider_error", retryable=retryable)

    def _own(self, url: str) -> str:
        """A URL from fal, if it is on the queue host we were configured with (our key goes nowhere else)."""
        mine, theirs = urlsplit(self.base_url), urlsplit(url)
        if (theirs.scheme, theirs.netloc) != (mine.scheme, mine.netloc):
            raise ProviderError("fal.ai pointed us at another host to follow the request; we did not follow it.",
                                code="provider_error")
        return url.rstrip("/")

    def _send(self, method: str, url: str, json=None) -> Reply:
        """One call to fal's queue; trouble reaching it is a retryable ProviderError."""
        headers = {"Authorization": f"Key {self.api_key}", "Accept": "application/json"}
        try:
            with requests.request(method, url, json=json, headers=headers, stream=True, allow_redirects=False,
                                  timeout=(min(CONNECT_TIMEOUT, self.timeout), self.timeout)) as response:
                return Reply(response.status_code, response.headers, _read_json(response))
        except requests.Timeout:
            raise ProviderError("fal.ai did not answer in time.", code="provider_timeout", retryable=True) from None
        except requests.RequestException:
            raise ProviderError("We could not reach fal.ai.", code="provider_unavailable", retryable=True) from None


def fal_input(model: str, request: ProviderRequest) -> dict:
    """The model's JSON input, in the field names of fal's schema for Nano Banana Pro."""
    editing = "edit" in MODELS[model].capabilities
    resolution = request.resolution or "1K"
    body = {"prompt": request.prompt}
    if editing:
        body["image_urls"] = [data_uri(image) for image in request.references]
    body.update(
        num_images=request.num_images,
        aspect_ratio=request.aspect_ratio or ("auto" if editing else TEXT_DEFAULT_ASPECT),
        resolution=resolution,
        # Lossless up to 2K; a 4K PNG of a photo can near the 40 MB download cap, so 4K comes as JPEG.
        output_format="jpeg" if resolution == "4K" else "png",
    )
    return body


def data_uri(image) -> str:
    """A reference photo as a JPEG data URI (fal accepts data URIs wherever it takes an image URL)."""
    if max(image.size) > REFERENCE_LONG_SIDE:
        image = image.copy()
        image.thumbnail((REFERENCE_LONG_SIDE, REFERENCE_LONG_SIDE))
    return "data:image/jpeg;base64," + base64.b64encode(encode_image(image, "JPEG", quality=92)).decode("ascii")


def model_error(details: list[dict], retryable: bool = False) -> ProviderError:
    """A 422 from the model: the first error's type decides (X-Fal-Retryable for the rest); msg is for people."""
    first = details[0] if details else {}
    kind, text = first.get("type", ""), first.get("msg") or "no reason given"
    if kind == "content_policy_violation":
        return ProviderError("fal.ai's safety filter blocked this request. "
                             "Rephrase the prompt or use a different photo.", code="content_policy")
    if kind in INPUT_IMAGE_ERRORS:
        return ProviderError(f"fal.ai could not use a reference photo: {text}. "
                             "Try another photo or re-export it as JPEG.", code="invalid_input")
    field = ".".join(str(part) for part in first.get("loc", [])[1:]) or "the request"
    return ProviderError(f"fal.ai rejected {field}: {text}", code="invalid_request", retryable=retryable)


def retry_after(reply: Reply) -> float | None:
    """The seconds fal asks us to wait (Retry-After in seconds; the HTTP-date form is rare and ignored)."""
    try:
        return max(0.0, float(reply.headers.get("Retry-After", "")))
    except ValueError:
        return None


def _waiting_or_failed(trouble: ProviderError) -> Outcome:
    if trouble.retryable:
        return Outcome.waiting(f"{trouble.message} Checking again shortly.")
    return Outcome.failed(trouble)


def _read_json(response) -> dict:
    """The JSON object of a small answer; an error page that is not JSON reads as {}."""
    data = read_capped(response, MAX_JSON_BYTES, "fal.ai")
    try:
        body = json.loads(data or b"{}")
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {"detail": body}


def _details(body: dict) -> list[dict]:
    detail = body.get("detail")
    return [item for item in detail if isinstance(item, dict)] if isinstance(detail, list) else []


def _detail_text(body: dict) -> str:
    detail = body.get("detail")
    if isinstance(detail, str):
        return detail
    return "; ".join(item.get("msg", "") for item in _details(body)) or "no reason given"


def _image_urls(body: dict) -> list[str]:
    images = body.get("images") if isinstance(body.get("images"), list) else []
    return [image["url"] for image in images
            if isinstance(image, dict) and isinstance(image.get("url"), str) and image["url"].startswith(("https://", "http://"))]
