"""The nanobananaapi.ai shapes: the {code, msg, data} envelope, a task's record and the completion callback.

That API answers every call with HTTP 200 and says what happened in the body's `code`; the status
table in DESIGN.md maps our generation states onto its `successFlag`.
"""
import json
from datetime import timezone

import sqlalchemy as sa

from app.errors import ApiError
from app.extensions import db
from app.generations.models import Generation, GenerationStatus
from app.images.models import Image
from app.images.storage import file_url
from app.urls import absolute

# Body codes, as the API documents them.
SUCCESS = 200
PARAMETER_ERROR = 400
UNAUTHORIZED = 401
INSUFFICIENT_CREDITS = 402
NOT_FOUND = 404
VALIDATION_ERROR = 422
RATE_LIMITED = 429
UNAVAILABLE = 455
SERVER_ERROR = 500
GENERATION_FAILED = 501
FEATURE_DISABLED = 505

# successFlag values.
GENERATING, SUCCEEDED, CREATE_TASK_FAILED, GENERATE_FAILED = 0, 1, 2, 3
TEXT_TO_IMAGE, IMAGE_TO_IMAGE = "TEXTTOIAMGE", "IMAGETOIAMGE"  # sic: the API's own spelling

# Our HTTP-style error statuses as that API's body codes.
STATUS_CODES = {
    400: PARAMETER_ERROR, 401: UNAUTHORIZED, 403: UNAUTHORIZED, 402: INSUFFICIENT_CREDITS, 404: NOT_FOUND,
    409: VALIDATION_ERROR, 413: VALIDATION_ERROR, 422: VALIDATION_ERROR, 429: RATE_LIMITED, 503: UNAVAILABLE,
}
# Error codes whose meaning is more precise than their status.
ERROR_CODES = {"unsupported_request": FEATURE_DISABLED, "invalid_image": VALIDATION_ERROR}
# A failed generation's error code → the body code a callback carries (and record-info's errorCode).
FAILURE_CODES = {"content_policy": PARAMETER_ERROR, "internal_error": SERVER_ERROR}


def envelope(code: int, msg: str, data=None) -> dict:
    return {"code": code, "msg": msg, "data": data}


def body_code(status: int, error_code: str | None = None) -> int:
    """The body code for one of our errors (HTTP-style status, stable code)."""
    if error_code in ERROR_CODES:
        return ERROR_CODES[error_code]
    if status in STATUS_CODES:
        return STATUS_CODES[status]
    return SERVER_ERROR if status >= 500 else VALIDATION_ERROR


def error_envelope(error: ApiError) -> dict:
    return envelope(body_code(error.status, error.code), error.message)


def success_flag(generation: Generation) -> int:
    """0 while queued or running, 1 on success, 2 for a failure before it ever ran, 3 otherwise (and when canceled)."""
    if not generation.is_terminal:
        return GENERATING
    if generation.status is GenerationStatus.SUCCEEDED:
        return SUCCEEDED
    if generation.status is GenerationStatus.FAILED and generation.started_at is None:
        return CREATE_TASK_FAILED
    return GENERATE_FAILED


def failure_code(generation: Generation) -> int:
    """The body code of a generation that did not succeed: 400 for a content-filter refusal, 501 or 500 otherwise."""
    return FAILURE_CODES.get(generation.error_code, GENERATION_FAILED)


def result_urls(generation: Generation) -> list[str]:
    """Absolute, signed, expiring links to the stored results."""
    return [absolute(file_url(image.storage_key)) for image in generation.outputs if image.deleted_at is None]


def task_json(generation: Generation) -> dict:
    """record-info's data for a task."""
    urls = result_urls(generation) if generation.status is GenerationStatus.SUCCEEDED else []
    flag = success_flag(generation)
    failed = flag in (CREATE_TASK_FAILED, GENERATE_FAILED)
    return {
        "taskId": generation.id,
        "paramJson": json.dumps(_params(generation)),
        "completeTime": _time(generation.finished_at),
        "response": {
            "originImageUrl": _origin_url(generation, urls[0]), "resultImageUrl": urls[0], "resultImageUrls": urls,
        } if urls else None,
        "successFlag": flag,
        "errorCode": failure_code(generation) if failed else 0,
        "errorMessage": _failure_message(generation) if failed else "",
        "createTime": _time(generation.created_at),
    }


def callback_payload(generation: Generation) -> dict:
    """The completion callback's body, in that API's callback shape."""
    if generation.status is GenerationStatus.SUCCEEDED:
        urls = result_urls(generation)
        info = {"resultImageUrl": urls[0] if urls else None, "resultImageUrls": urls}
        return envelope(SUCCESS, "Image generated successfully.", {"taskId": generation.id, "info": info})
    return envelope(failure_code(generation), _failure_message(generation), {"taskId": generation.id, "info": {}})


def _failure_message(generation: Generation) -> str:
    if generation.status is GenerationStatus.CANCELED:
        return "The task was canceled."
    return generation.error_message or "Image generation failed."


def _params(generation: Generation) -> dict:
    """The request as that API would echo it back, rebuilt from the generation (image links freshly signed)."""
    params = {
        "prompt": generation.prompt,
        "type": IMAGE_TO_IMAGE if generation.reference_image_ids else TEXT_TO_IMAGE,
        "numImages": generation.num_images,
    }
    if generation.reference_image_ids:
        params["imageUrls"] = _reference_urls(generation.reference_image_ids)
    if generation.aspect_ratio:
        params["image_size"] = generation.aspect_ratio
    if generation.watermark:
        params["watermark"] = generation.watermark
    if generation.callback_url:
        params["callBackUrl"] = generation.callback_url
    return params


def _reference_urls(image_ids: list[str]) -> list[str]:
    keys = dict(db.session.execute(sa.select(Image.id, Image.storage_key).where(Image.id.in_(image_ids))).all())
    return [absolute(file_url(keys[image_id])) for image_id in image_ids if image_id in keys]


def _origin_url(generation: Generation, result_url: str) -> str:
    """An edit's input photo (so a before/after view shows both); a text-to-image task has no input but its result."""
    if not generation.reference_image_ids:
        return result_url
    inputs = _reference_urls(generation.reference_image_ids[:1])
    return inputs[0] if inputs else result_url


def _time(moment) -> int | None:
    """Milliseconds since the epoch (UTC), as that API family's record-info carries its times; None until then."""
    if moment is None:
        return None
    return round(moment.replace(tzinfo=moment.tzinfo or timezone.utc).timestamp() * 1000)
