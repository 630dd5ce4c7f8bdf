"""Health of the web process and the parts it depends on."""
import secrets

import sqlalchemy as sa
from flask import Blueprint, jsonify

from app.errors import storage_fault
from app.extensions import db, redis_queues
from app.images.storage import storage

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """200 when the database and Redis answer; the worker count tells whether jobs will run."""
    checks = {"web": "ok", "database": "ok", "redis": "ok", "workers": 0}
    try:
        db.session.execute(sa.text("SELECT 1"))
    except Exception as error:  # any failure here means the database is unusable
        checks["database"] = f"error: {type(error).__name__}"
    try:
        redis_queues.connection.ping()
        checks["workers"] = len(redis_queues.live_workers())
    except Exception as error:
        checks["redis"] = f"error: {type(error).__name__}"
    healthy = checks["database"] == "ok" and checks["redis"] == "ok"
    checks["status"] = "ok" if healthy else "degraded"
    return jsonify(checks), 200 if healthy else 503


@bp.get("/readyz")
def readyz():
    """200 when this instance can take work: the database and Redis answer and storage takes a write."""
    checks = {"database": "ok", "redis": "ok", "storage": "ok"}
    try:
        db.session.execute(sa.text("SELECT 1"))
    except Exception as error:  # any failure here means the database is unusable
        checks["database"] = f"error: {type(error).__name__}"
    try:
        redis_queues.connection.ping()
    except Exception as error:
        checks["redis"] = f"error: {type(error).__name__}"
    checks["storage"] = storage_check()
    ready = all(value == "ok" for value in checks.values())
    checks["status"] = "ready" if ready else "not ready"
    return jsonify(checks), 200 if ready else 503


def storage_check() -> str:
    """Write and delete a small probe file: "ok", or what the person running the service should do."""
    key = f"readyz/probe-{secrets.token_hex(4)}"
    try:
        storage().put(key, b"ready")
        storage().delete(key)
    except OSError as error:
        fault = storage_fault(error)
        return fault.message if fault else f"error: {error}"
    return "ok"
