"""The nanobananaapi.ai endpoints: generate, record-info (and record), and the credit balance.

Every answer is HTTP 200 with {code, msg, data}, as that API does: clients read the body's code.
"""
import logging

from flask import Blueprint, g, jsonify, request
from werkzeug.exceptions import HTTPException

from app import database
from app.auth.api import api_key_required, json_body
from app.compat.nanobanana import service
from app.compat.nanobanana.serializers import (
    RATE_LIMITED,
    SERVER_ERROR,
    SUCCESS,
    UNAVAILABLE,
    body_code,
    envelope,
    error_envelope,
    task_json,
)
from app.credits import service as credits
from app.errors import BUSY_RETRY_AFTER, ApiError, storage_fault
from app.extensions import csrf, db
from app.idempotency import api as idempotency
from app.idempotency.api import idempotent

log = logging.getLogger(__name__)

bp = Blueprint("nanobanana", __name__, url_prefix="/api/v1")


@bp.post("/nanobanana/generate")
@csrf.exempt
@api_key_required
@idempotent
def generate():
    """Start a text-to-image or image-editing task; its taskId is polled through record-info."""
    generation = service.create_task(g.project, json_body(), api_key=g.api_key)
    answered = idempotency.answer(envelope(SUCCESS, "success", {"taskId": generation.id}), 200)
    db.session.commit()
    return answered


@bp.get("/nanobanana/record-info")
@bp.get("/nanobanana/record")
@api_key_required
def record_info():
    """Where a task stands: successFlag, result links once done, why it failed otherwise."""
    task_id = (request.args.get("taskId") or "").strip()
    if not task_id:
        raise ApiError("taskId is required: send it as ?taskId=<the taskId that generate returned>.")
    return jsonify(envelope(SUCCESS, "success", task_json(service.get_task(g.project, task_id))))


@bp.get("/common/credit")
@api_key_required
def credit():
    """The workspace's remaining credits, as a bare number."""
    return jsonify(envelope(SUCCESS, "success", credits.balance(g.project.workspace_id)))


@bp.errorhandler(ApiError)
def api_error(error: ApiError):
    db.session.rollback()
    return jsonify(error_envelope(error)), 200, error.headers


@bp.errorhandler(HTTPException)
def http_error(error: HTTPException):
    """Rate limits (429), oversized bodies (413) and the like, in the envelope."""
    db.session.rollback()
    status = error.code or 500
    message = error.description or error.name
    if status == 429:
        message = f"Rate limit exceeded ({error.description}); wait for Retry-After seconds and try again."
    headers = [(name, value) for name, value in error.get_headers() if name.lower() != "content-type"]
    code = RATE_LIMITED if status == 429 else body_code(status)
    return jsonify(envelope(code, message)), 200, headers


@bp.errorhandler(Exception)
def unexpected(error: Exception):
    db.session.rollback()
    if database.is_busy(error):
        log.warning("database busy on %s %s: %s", request.method, request.path, error)
        busy = envelope(UNAVAILABLE, "Stagecraft is busy right now; please try again in a moment.")
        return jsonify(busy), 200, {"Retry-After": str(BUSY_RETRY_AFTER)}
    if (fault := storage_fault(error)) is not None:
        log.error("storage fault on %s %s: %s", request.method, request.path, error)
        return jsonify(error_envelope(fault)), 200, fault.headers
    log.exception("unhandled error on %s %s", request.method, request.path)
    return jsonify(envelope(SERVER_ERROR, "Something went wrong on our side; it has been logged.")), 200
