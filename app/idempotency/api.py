"""Idempotency-Key for every POST that creates work: a repeat returns the original response."""
import hashlib
import json
from functools import wraps

import sqlalchemy as sa
from flask import g, jsonify, request
from sqlalchemy.exc import IntegrityError

from app.errors import ApiError
from app.extensions import db
from app.idempotency.models import KEY_LIFETIME, MAX_KEY_LENGTH, IdempotencyRecord
from app.timeutil import utcnow


def _request_hash() -> str:
    material = request.method + request.path + "\n" + request.get_data(as_text=True)
    return hashlib.sha256(material.encode()).hexdigest()


def _find_live(scope: str, key: str) -> IdempotencyRecord | None:
    """The key's record, unless it is older than KEY_LIFETIME (then the key is free again)."""
    return db.session.scalar(
        sa.select(IdempotencyRecord).where(
            IdempotencyRecord.scope == scope, IdempotencyRecord.key == key,
            IdempotencyRecord.created_at >= utcnow() - KEY_LIFETIME,
        )
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


def idempotent(view):
    """Honour an Idempotency-Key header for 24 h, per API project; the view answers through `answer`, then commits.

    The key's record is written by the view's one commit, with the answer it got, so no moment exists in which
    the key is durable without its answer (a crash there used to leave it "in progress" for a day), and a
    refusal leaves nothing behind: a retry with the same key is a new try. A concurrent duplicate fails on
    the unique key at its commit, its work rolled back, and is answered with the first request's answer.
    """

    @wraps(view)
    def wrapper(*args, **kwargs):
        key = request.headers.get("Idempotency-Key", "").strip()
        if not key:
            return view(*args, **kwargs)
        if len(key) > MAX_KEY_LENGTH:
            raise ApiError(f"Idempotency-Key must be at most {MAX_KEY_LENGTH} characters.")
        scope, request_hash = f"project:{g.project.id}", _request_hash()
        existing = _find_live(scope, key)
        if existing:
            return _replay(existing, request_hash)
        record = g.idempotency_record = IdempotencyRecord(scope=scope, key=key, request_hash=request_hash)
        try:
            answered = view(*args, **kwargs)
        except IntegrityError:
            db.session.rollback()
            first = _find_live(scope, key)
            if first is None:
                raise
            return _replay(first, request_hash)
        finally:
            g.pop("idempotency_record", None)
        if record.response_status is None:
            raise RuntimeError(f"{view.__name__} must answer through idempotency.answer before it commits")
        return answered

    return wrapper


def answer(body: dict, status: int):
    """The view's JSON answer; under an Idempotency-Key also its record, which the view's next commit writes."""
    response = jsonify(body)
    record = g.get("idempotency_record")
    if record is not None:
        record.response_status, record.response_body = status, json.loads(response.get_data(as_text=True))
        db.session.execute(  # an expired record of the key makes way, in the same transaction
            sa.delete(IdempotencyRecord).where(
                IdempotencyRecord.scope == record.scope, IdempotencyRecord.key == record.key,
                IdempotencyRecord.created_at < utcnow() - KEY_LIFETIME,
            )
        )
        db.session.add(record)
    return response, status

