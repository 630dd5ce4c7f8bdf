"""Structured (JSON lines) logging carrying the request id and the RQ job id."""
import json
import logging
import sys
import time
import uuid

from flask import g, has_request_context, request


def current_job_id() -> str | None:
    """The id of the RQ job this process is running, if any."""
    from rq import get_current_job

    job = get_current_job()
    return job.id if job else None


class ContextFilter(logging.Filter):
    """Adds request_id and job_id to every record."""

    def filter(self, record):
        record.request_id = g.get("request_id") if has_request_context() else None
        record.job_id = current_job_id()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line, so logs can be searched by request or job id."""

    def format(self, record):
        entry = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key in ("request_id", "job_id"):
            if getattr(record, key, None):
                entry[key] = getattr(record, key)
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry)


def configure_logging(app):
    """Send structured logs to stderr and tag each request with an id (echoed as X-Request-ID)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.set_name("stagecraft")
    handler.addFilter(ContextFilter())
    if app.config["LOG_FORMAT"] == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s [%(request_id)s %(job_id)s] %(message)s"))
    root = logging.getLogger()
    root.handlers = [h for h in root.handlers if h.get_name() != "stagecraft"] + [handler]
    root.setLevel(app.config["LOG_LEVEL"])

    @app.before_request
    def assign_request_id():
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = incoming[:64] if incoming.isprintable() and incoming else uuid.uuid4().hex

    @app.after_request
    def echo_request_id(response):
        if "request_id" in g:
            response.headers["X-Request-ID"] = g.request_id
        return response
