"""Idempotency-Key for every POST that creates work: a repeat returns the original response."""
import hashlib
import json
from functools import wraps

import sqlalchemy as sa
from flask import g, jsonify, request, stream_with_context
from sqlalchemy.exc import IntegrityError

from app.errors import ApiError
from app.extensions import db
from app.idempotency.models import KEY_LIFETIME, MAX_KEY_LENGTH, IdempotencyRecord
from app.timeutil import utcnow


def _request_hash() -> str:
    material = request.method + request.path + "\n" + request.get_data(as_text=True)
    return hashlib.sha256(material.encode()).hexdigest()


def _find(scope: str, key: str) -> IdempotencyRecord | None:
    return db.session.scalar(
        sa.select(IdempotencyRecord).where(IdempotencyRecord.scope == scope, IdempotencyRecord.key == key)
    )


def _replay(record: IdempotencyRecord, request_hash: str):
    if record.request_hash != request_hash:
        raise ApiError(
            "This Idempotency-Key was already used with a different request body; use a new key.",
            status=409,
            code="idempotency_conflict",
        )
    if record.response_status is None:
        raise ApiError(
            "A request with this Idempotency-Key is still being processed; retry shortly.",
            status=409,
            code="idempotency_in_progress",
        )
    response = jsonify(record.response_body)
    response.headers["Idempotent-Replayed"] = "true"
    return response, record.response_status


def _kept_when_sent(chunks, record_id: int, status: int):
    """Pass a streamed answer through, then keep its whole body for repeats of the request."""
    sent = []
    for chunk in chunks:
        sent.append(chunk if isinstance(chunk, bytes) else chunk.encode())
        yield chunk
    record = db.session.get(IdempotencyRecord, record_id)
    record.response_status, record.response_body = status, json.loads(b"".join(sent))
    db.session.commit()


def idempotent(view):
    """Honour an Idempotency-Key header for 24 h, per API project; the view must return (json, status)."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        key = request.headers.get("Idempotency-Key", "").strip()
        if not key:
            return view(*args, **kwargs)
        if len(key) > MAX_KEY_LENGTH:
            raise ApiError(f"Idempotency-Key must be at most {MAX_KEY_LENGTH} characters.")
        scope, request_hash = f"project:{g.project.id}", _request_hash()
        db.session.execute(
            sa.delete(IdempotencyRecord).where(
                IdempotencyRecord.scope == scope,
                IdempotencyRecord.key == key,
                IdempotencyRecord.created_at < utcnow() - KEY_LIFETIME,
            )
        )
        existing = _find(scope, key)
        if existing:
            return _replay(existing, request_hash)
        record = IdempotencyRecord(scope=scope, key=key, request_hash=request_hash)
        try:
            with db.session.begin_nested():
                db.session.add(record)
        except IntegrityError:
            db.session.rollback()
            return _replay(_find(scope, key), request_hash)
        response, status = view(*args, **kwargs)  # the view's commit includes the pending record
        if response.is_streamed:  # a held answer (process-image): kept once it is whole; a repeat meanwhile is 409
            response.response = stream_with_context(_kept_when_sent(response.response, record.id, status))
            return response, status
        record.response_status, record.response_body = status, json.loads(response.get_data(as_text=True))
        db.session.commit()
        return response, status

    return wrapper
