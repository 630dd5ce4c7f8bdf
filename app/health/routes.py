"""Health of the web process and the parts it depends on."""
import sqlalchemy as sa
from flask import Blueprint, jsonify
from rq import Worker

from app.extensions import db, redis_queues

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
        checks["workers"] = Worker.count(connection=redis_queues.connection)
    except Exception as error:
        checks["redis"] = f"error: {type(error).__name__}"
    healthy = checks["database"] == "ok" and checks["redis"] == "ok"
    checks["status"] = "ok" if healthy else "degraded"
    return jsonify(checks), 200 if healthy else 503
