"""One signed POST of a delivery's body, summed up as what the attempt log records."""
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import current_app

from app import outbound
from app.webhooks.models import EXCERPT_LENGTH
from app.webhooks.signing import signed_headers


@dataclass(frozen=True)
class Outcome:
    """What one attempt got: an HTTP status (or none), how long it took, the start of the answer, what went wrong."""

    status_code: int | None
    latency_ms: int
    excerpt: str | None
    error: str | None
    retryable: bool = True


def send(message_id: str, url: str, body: str, secrets: list[str]) -> Outcome:
    """POST body to url, signed now with each secret; redirects are answers, never followed."""
    headers = signed_headers(secrets, message_id, int(time.time()), body)
    started = time.monotonic()
    try:
        answer = outbound.post(
            url, body=body.encode(), headers=headers, timeout=current_app.config["WEBHOOK_TIMEOUT"],
            max_bytes=EXCERPT_LENGTH * 4,
        )
    except outbound.OutboundRefused:
        host = urlsplit(url).hostname
        message = f"Not sent: {host} is not a public internet address, so Stagecraft does not call it."
        return Outcome(None, elapsed_ms(started), None, message, retryable=False)
    except outbound.OutboundError as error:
        return Outcome(None, elapsed_ms(started), None, error.message, retryable=error.retryable)
    excerpt = answer.body.decode("utf-8", errors="replace")[:EXCERPT_LENGTH]
    return Outcome(answer.status, elapsed_ms(started), excerpt, problem_with(answer.status))


def problem_with(status: int) -> str | None:
    """Why an HTTP status does not count as received (None for 2xx)."""
    if 200 <= status < 300:
        return None
    if 300 <= status < 400:
        return f"It answered {status}, a redirect; callbacks are not redirected, so set the final address."
    return f"It answered {status}; only a 2xx answer counts as received."


def elapsed_ms(started: float) -> int:
    return round((time.monotonic() - started) * 1000)
