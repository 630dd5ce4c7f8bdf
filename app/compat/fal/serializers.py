"""fal's JSON shapes of a generation: submit answer, status, result, and the webhook payload."""
from app.compat.fal.service import MODELS, app_base
from app.generations.models import Generation, GenerationStatus
from app.images.storage import file_url
from app.timeutil import isoformat
from app.urls import absolute, app_path

# Our error codes as fal's error_type words.
ERROR_TYPES = {
    "content_policy": "content_policy_violation",
    "canceled": "canceled",
    "timeout": "generation_timeout",
    "provider_timeout": "generation_timeout",
    "invalid_image": "image_load_error",
    "invalid_input": "image_load_error",
    "no_image": "image_load_error",
    "download_failed": "file_download_error",
}
DOWNSTREAM_CODES = {"provider_error", "provider_auth", "provider_unavailable", "upstream_lost", "bad_result", "rate_limited"}
# Refusals of the input, answered 422 like fal's validation errors, with the field at fault.
INPUT_ERRORS = {"content_policy_violation": "prompt", "image_load_error": "image_urls"}
FAL_STATUS = {
    GenerationStatus.QUEUED: "IN_QUEUE",
    GenerationStatus.PROCESSING: "IN_PROGRESS",
}


def request_urls(app: str, request_id: str) -> dict:
    """Absolute response, status and cancel URLs, on owner/app without any subpath (as fal builds them)."""
    response_url = absolute(app_path("fal.result", app_id=app, request_id=request_id))
    return {"response_url": response_url, "status_url": f"{response_url}/status", "cancel_url": f"{response_url}/cancel"}


def submit_json(generation: Generation, app: str, queue_position: int | None) -> dict:
    return {
        "request_id": generation.id,
        "gateway_request_id": generation.id,
        **request_urls(app_base(app), generation.id),
        "queue_position": queue_position or 0,
    }


def fal_status(generation: Generation) -> str:
    return FAL_STATUS.get(generation.status, "COMPLETED")


def error_type(generation: Generation) -> str | None:
    """fal's error_type of a request that ended without a result; None if it succeeded or runs."""
    if generation.status is GenerationStatus.CANCELED:
        return "canceled"
    if generation.status is not GenerationStatus.FAILED:
        return None
    if generation.error_code in DOWNSTREAM_CODES:
        return "downstream_service_error"
    return ERROR_TYPES.get(generation.error_code, "internal_server_error")


def status_json(generation: Generation, app: str, *, logs: bool, queue_position=None, eta_seconds=None) -> dict:
    """The polling shape: logs always present (null unless asked), metrics once completed, pipelet's statusMessages."""
    body = {"status": fal_status(generation), "request_id": generation.id, **request_urls(app_base(app), generation.id)}
    # In every answer, as pipelet's IN_PROGRESS example shows it: clients read it unconditionally (0 = next or running).
    body["queue_position"] = (queue_position or 0) if generation.status is GenerationStatus.QUEUED else 0
    body["logs"] = _logs(generation) if logs else None
    if generation.is_terminal:
        body["metrics"] = {"inference_time": _inference_time(generation)}
    kind = error_type(generation)
    if kind:
        body["error"] = "Request was canceled." if kind == "canceled" else generation.error_message
        body["error_type"] = kind
    done, total = generation.progress_done, generation.progress_total
    if generation.status is GenerationStatus.SUCCEEDED:
        done = total = max(total, 1)
    body["statusMessages"] = {"message": f"Progress: {done}/{total} Tasks done", "estimatedTotalTimeSeconds": eta_seconds}
    return body


def _logs(generation: Generation) -> list[dict]:
    """The latest progress note, as fal's log lines (we keep the current step, not a history)."""
    if not generation.progress_message:
        return []
    level = "ERROR" if generation.status is GenerationStatus.FAILED else "INFO"
    line = {"message": generation.progress_message, "level": level, "source": "stagecraft"}
    return [{**line, "timestamp": isoformat(generation.updated_at)}]


def _inference_time(generation: Generation) -> float | None:
    if generation.started_at is None or generation.finished_at is None:
        return None
    return round((generation.finished_at - generation.started_at).total_seconds(), 3)


def result_json(generation: Generation) -> tuple[dict, int]:
    """A finished request's answer and HTTP status: the model's output, or fal's error body."""
    if generation.status is GenerationStatus.SUCCEEDED:
        return _output(generation), 200
    if generation.status is GenerationStatus.CANCELED:
        return {"detail": "Request was canceled before it finished.", "error_type": "canceled"}, 400
    kind = error_type(generation)
    if kind in INPUT_ERRORS:  # the input was refused: fal's validation shape, on the field at fault
        detail = [{"loc": ["body", INPUT_ERRORS[kind]], "msg": generation.error_message, "type": kind}]
        return {"detail": detail}, 422
    status = {"generation_timeout": 504, "downstream_service_error": 502}.get(kind, 500)
    return {"detail": generation.error_message or "The request failed.", "error_type": kind}, status


def _output(generation: Generation) -> dict:
    images = [_image_json(image) for image in generation.outputs if image.deleted_at is None]
    fal_meta = (generation.meta or {}).get("fal") or {}
    body = {"images": images, "description": ""}
    if fal_meta.get("seed") is not None:
        body["seed"] = fal_meta["seed"]
    model = MODELS.get(fal_meta.get("model"))
    if model is not None and model.pipelet and images:
        # pipelet's example: data_uri is a signed download link to the first image (not base64 bytes).
        body["image"] = {"data_uri": images[0]["url"], "file_name": images[0]["file_name"]}
        body["results"] = [image["url"] for image in images]
    return body


def _image_json(image) -> dict:
    return {
        "url": absolute(file_url(image.storage_key)),
        "content_type": image.mime,
        "file_name": f"{image.id}.{image.extension}",
        "file_size": image.size_bytes,
        "width": image.width,
        "height": image.height,
    }


def webhook_payload(generation: Generation) -> dict:
    """fal's webhook body for a finished request: status OK with the output, or ERROR with the error body."""
    payload, status = result_json(generation)
    body = {"request_id": generation.id, "gateway_request_id": generation.id}
    if status == 200:
        return {**body, "status": "OK", "payload": payload}
    return {**body, "status": "ERROR", "error": f"Invalid status code: {status}", "payload": payload}
