"""The fal-style queue: POST a model's input, follow it (poll or SSE), cancel it, read its result.

Submits count against the key's rate limit; reads and cancels do not, because fal's clients
poll status every 100 ms while they wait.
"""
import json
import time
from functools import wraps

from flask import Blueprint, Response, g, jsonify, make_response, request, stream_with_context

from app.auth.api import api_key_from_request, api_key_required, key_use_noted
from app.auth.service import find_api_key
from app.compat.fal import service
from app.compat.fal.inputs import FalInputError
from app.compat.fal.serializers import fal_status, result_json, status_json, submit_json
from app.errors import ApiError
from app.extensions import csrf, db
from app.generations import progress
from app.generations.models import Generation
from app.idempotency import api as idempotency
from app.idempotency.api import idempotent
from app.sse import SSE_HEADERS

bp = Blueprint("fal", __name__, url_prefix="/fal/queue")

REQUEST = "/<path:app_id>/requests/<request_id>"
STREAM_MAX_SECONDS = 600  # then the client reconnects and gets the current state first
KEEPALIVE_SECONDS = 15
# pipelet's documented curl sends its JSON body with -d and no Content-Type (so curl labels it a form).
LENIENT_BODY_TYPES = ("", "text/plain", "application/x-www-form-urlencoded")


def key_required(view):
    """Authenticate by API key (Authorization: Key … or Bearer …) without spending the key's request budget."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        g.api_key = find_api_key(api_key_from_request())
        g.project = g.api_key.project
        with key_use_noted(g.api_key):
            return make_response(view(*args, **kwargs))

    return wrapper


@bp.post("/<path:app_id>")
@csrf.exempt
@api_key_required
@idempotent
def submit(app_id: str):
    """Queue a request for a model; ?fal_webhook= is called when it finishes."""
    generation = service.submit(
        g.project, app_id, model_input(), api_key=g.api_key,
        webhook=request.args.get("fal_webhook"), priority_header=request.headers.get("X-Fal-Queue-Priority"),
    )
    position, _ = service.queue_facts(generation)
    answered = idempotency.answer(submit_json(generation, app_id, position), 200)
    db.session.commit()
    return answered


def model_input() -> dict:
    """The JSON object body; also when it came without a JSON content type, as pipelet's own example sends it."""
    body = request.get_json(silent=True)
    if body is None and request.mimetype in LENIENT_BODY_TYPES:
        try:
            body = json.loads(request.get_data(cache=True) or b"null")
        except ValueError:
            body = None
    if not isinstance(body, dict):
        raise FalInputError(None, "Send the model's input as a JSON object body (Content-Type: application/json).")
    return body


@bp.get(f"{REQUEST}/status")
@key_required
def status(app_id: str, request_id: str):
    """202 while queued or running, 200 once completed (a failure is COMPLETED with error and error_type)."""
    generation = service.get_request(g.project, request_id)
    body = _status_body(generation, app_id, logs=request.args.get("logs", "").lower() in ("1", "true"))
    return jsonify(body), 200 if generation.is_terminal else 202


def _status_body(generation: Generation, app_id: str, logs: bool) -> dict:
    position, eta = service.queue_facts(generation)
    return status_json(generation, app_id, logs=logs, queue_position=position, eta_seconds=eta)


@bp.get(f"{REQUEST}/status/stream")
@key_required
def status_stream(app_id: str, request_id: str):
    """Server-sent events: the status in the polling shape at once and at each change; ends after COMPLETED."""
    generation_id = service.get_request(g.project, request_id).id
    logs = request.args.get("logs", "").lower() in ("1", "true")
    listener = progress.listen(generation_id)

    def current() -> tuple[dict, bool]:
        return progress.fresh_read(generation_id, lambda generation: _status_body(generation, app_id, logs))

    def stream():
        deadline = time.monotonic() + STREAM_MAX_SECONDS
        sent = None
        try:
            while True:
                body, finished = current()
                if body != sent:
                    yield f"data: {json.dumps(body)}\n\n"
                    sent = body
                else:
                    yield ": keep-alive\n\n"
                if finished or time.monotonic() >= deadline:
                    return
                listener.wait(KEEPALIVE_SECONDS)
        finally:
            listener.close()

    return Response(stream_with_context(stream()), mimetype="text/event-stream", headers=SSE_HEADERS)


@bp.put(f"{REQUEST}/cancel")
@csrf.exempt
@key_required
def cancel(app_id: str, request_id: str):
    """202 CANCELLATION_REQUESTED (a queued request ends at once, refunded), 400 ALREADY_COMPLETED."""
    try:
        generation = service.get_request(g.project, request_id)
    except ApiError as missing:
        return jsonify(status="NOT_FOUND", detail=missing.message), 404
    requested = service.cancel_request(generation)
    db.session.commit()
    if requested:
        return jsonify(status="CANCELLATION_REQUESTED"), 202
    return jsonify(status="ALREADY_COMPLETED", detail="The request has already finished."), 400


@bp.get(REQUEST)
@key_required
def result(app_id: str, request_id: str):
    """The model's output once the request has finished; 400 while it is still queued or running."""
    generation = service.get_request(g.project, request_id)
    if not generation.is_terminal:
        return jsonify(detail="Request is still in progress.", status=fal_status(generation)), 400
    body, code = result_json(generation)
    return jsonify(body), code


@bp.errorhandler(FalInputError)
def input_error(error: FalInputError):
    return jsonify(detail=[{"loc": error.loc, "msg": error.message, "type": error.error_type}]), 422


@bp.errorhandler(ApiError)
def api_error(error: ApiError):
    """fal's error shape: a bad input is 422 with a detail list; anything else {"detail": message} (app/errors.py)."""
    if error.status == 400:
        return jsonify(detail=[{"loc": ["body"], "msg": error.message, "type": "value_error"}]), 422
    return jsonify(detail=error.message), error.status, error.headers
