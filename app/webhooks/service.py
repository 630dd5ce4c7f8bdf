"""Outgoing callbacks: schedule them, claim and record attempts, retry with backoff, redeliver, rotate secrets.

Deliveries are sent by RQ jobs (jobs/webhooks.py), never inside a request. This module must not import
app.generations: generations import it, and it sees a generation only through the attributes it reads.
"""
import json
import math
from datetime import timedelta
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import current_app

from app.errors import ApiError
from app.extensions import db
from app.outbound import OutboundError, OutboundRefused, check_url
from app.pagination import Page, paginate
from app.projects.models import Project, new_webhook_secret
from app.projects.service import get_in_project
from app.timeutil import isoformat, utcnow
from app.webhooks.dispatch import attempt_timeout, enqueue_attempt_after_commit
from app.webhooks.models import EXCERPT_LENGTH, DeliveryStatus, WebhookAttempt, WebhookDelivery

MAX_URL_LENGTH = 2048
# After a rotation the previous secret keeps signing (beside the new one) so receivers can switch over.
ROTATION_GRACE = timedelta(hours=24)
RETRY_FACTOR = 3
TEST_EVENT = "webhook.test"
IN_FLIGHT = "No answer recorded yet: the attempt is under way, or its worker stopped."


def check_callback_url(url, field: str = "callbackUrl") -> str | None:
    """A callback URL as given, or None; 400 naming the field and what to change when it is not public http(s)."""
    if url is None or url == "":
        return None
    if not isinstance(url, str) or len(url) > MAX_URL_LENGTH:
        raise ApiError(f"{field} must be an http(s) URL of at most {MAX_URL_LENGTH} characters.")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises ValueError for a port that is not a number)
    except ValueError:
        raise ApiError(f"{field} is not a valid URL.") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ApiError(f"{field} must be an http(s) URL: a full address starting with https:// (or http://).")
    if "@" in parts.netloc:
        raise ApiError(f"{field} must not hold a user name or password.")
    try:
        check_url(url)
    except OutboundRefused:
        raise ApiError(
            f"{field} points at {parts.hostname}, which is not a public internet address; "
            "callbacks are only sent to public addresses."
        ) from None
    except OutboundError:
        raise ApiError(f"{field}'s host {parts.hostname} could not be found; check the address.") from None
    return url


def schedule_generation_callback(generation) -> WebhookDelivery:
    """Record the callback for a generation that just ended; its first attempt is queued after commit."""
    return _schedule(
        project_id=generation.project_id,
        generation_id=generation.id,
        surface=generation.surface or "v1",
        event_type=f"generation.{generation.status.value}",
        url=generation.callback_url,
    )


def send_test_event(project: Project, url: str) -> WebhookDelivery:
    """A signed test event to url, delivered (and retried) like any callback."""
    url = check_callback_url((url or "").strip())
    if url is None:
        raise ApiError("Enter the address that should receive the test event.")
    signing_secrets(project)  # a project from before secrets existed gets one now
    body = {
        "type": TEST_EVENT,
        "timestamp": isoformat(utcnow()),
        "data": {"projectId": project.id, "message": "This is a test event from Stagecraft."},
    }
    return _schedule(project_id=project.id, surface="v1", event_type=TEST_EVENT, url=url, body=encode(body))


def _schedule(**fields) -> WebhookDelivery:
    delivery = WebhookDelivery(
        status=DeliveryStatus.PENDING,
        attempt_limit=current_app.config["WEBHOOK_MAX_ATTEMPTS"],
        next_attempt_at=utcnow(),
        **fields,
    )
    db.session.add(delivery)
    db.session.flush()
    enqueue_attempt_after_commit(delivery.id, 1)
    return delivery


def encode(payload: dict) -> str:
    """The JSON text of a body: built once, then sent and signed byte for byte the same on every attempt."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False)


def redeliver(delivery: WebhookDelivery) -> WebhookDelivery:
    """Send a delivery again now, with the same id and body: one more attempt (the retries already left stay)."""
    next_attempt = delivery.attempt_count + 1
    delivery.status = DeliveryStatus.PENDING
    delivery.attempt_limit = max(delivery.attempt_limit, next_attempt)
    delivery.next_attempt_at = utcnow()
    delivery.finished_at = None
    db.session.flush()
    enqueue_attempt_after_commit(delivery.id, next_attempt)
    return delivery


def claim_attempt(delivery: WebhookDelivery, number: int | None) -> WebhookAttempt | None:
    """Take attempt `number` (None: the next one) of a pending delivery, once; None if it is not due to this job.

    A guarded UPDATE: two jobs for the same attempt (a scheduled one and one the sweeper queued) cannot
    both send. The claim holds the delivery for the length of a job so the sweeper leaves it alone.
    """
    number = number or delivery.attempt_count + 1
    lease = utcnow() + timedelta(seconds=attempt_timeout())
    claimed = db.session.execute(
        sa.update(WebhookDelivery)
        .where(
            WebhookDelivery.id == delivery.id,
            WebhookDelivery.status == DeliveryStatus.PENDING,
            WebhookDelivery.attempt_count == number - 1,
        )
        .values(attempt_count=number, next_attempt_at=lease, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        return None
    db.session.refresh(delivery)
    attempt = WebhookAttempt(delivery_id=delivery.id, number=number, error=IN_FLIGHT)
    db.session.add(attempt)
    db.session.flush()
    return attempt


def record_answer(delivery: WebhookDelivery, attempt: WebhookAttempt, status_code: int | None, latency_ms: int,
                  excerpt: str | None, error: str | None, retryable: bool = True) -> None:
    """Store what an attempt got back; a 2xx delivers, anything else is retried with backoff until none are left."""
    attempt.status_code, attempt.latency_ms, attempt.error = status_code, latency_ms, error
    attempt.response_excerpt = (excerpt or "")[:EXCERPT_LENGTH] or None
    if attempt.succeeded:
        _finish(delivery, DeliveryStatus.DELIVERED)
    elif retryable and delivery.attempt_count < delivery.attempt_limit:
        delay = retry_delay(delivery.attempt_count)
        delivery.next_attempt_at = utcnow() + timedelta(seconds=delay)
        enqueue_attempt_after_commit(delivery.id, delivery.attempt_count + 1, delay=delay)
    else:
        _finish(delivery, DeliveryStatus.FAILED)
    db.session.flush()


def give_up(delivery: WebhookDelivery, attempt: WebhookAttempt, error: str) -> None:
    """End a delivery that no retry can help (its body cannot be built, its address is refused)."""
    record_answer(delivery, attempt, None, 0, None, error, retryable=False)


def _finish(delivery: WebhookDelivery, status: DeliveryStatus) -> None:
    delivery.status, delivery.next_attempt_at, delivery.finished_at = status, None, utcnow()


def retry_delay(failed_attempts: int) -> int:
    """Seconds before the next try after this many failed attempts: base, ×3, ×9… (1, 3, 9, 27, 81 min by default)."""
    return current_app.config["WEBHOOK_RETRY_BASE"] * RETRY_FACTOR ** (failed_attempts - 1)


def link_lifetime() -> int:
    """How long links in a callback's body must last: through every retry (each one timing out), then the usual time
    for the receiver to fetch them after the last attempt."""
    config = current_app.config
    attempts = config["WEBHOOK_MAX_ATTEMPTS"]
    retries = sum(retry_delay(failed) for failed in range(1, attempts))
    return retries + math.ceil(attempts * config["WEBHOOK_TIMEOUT"]) + config["SIGNED_URL_TTL"]


def set_body(delivery: WebhookDelivery, payload: dict) -> None:
    """Fix a delivery's body once (the first attempt builds it); later attempts send the same text."""
    if delivery.body is None:
        delivery.body = encode(payload)
        db.session.flush()


def due_deliveries(grace: int) -> list[WebhookDelivery]:
    """Pending deliveries whose next attempt is more than grace seconds overdue (their job was lost or delayed)."""
    overdue = utcnow() - timedelta(seconds=grace)
    return list(db.session.scalars(
        sa.select(WebhookDelivery)
        .where(WebhookDelivery.status == DeliveryStatus.PENDING, WebhookDelivery.next_attempt_at < overdue)
        .order_by(WebhookDelivery.next_attempt_at)
        .limit(500)
    ))


def requeue(delivery: WebhookDelivery) -> None:
    """Queue a lost or overdue delivery's next attempt now (a stale job for it finds the attempt taken)."""
    delivery.next_attempt_at = utcnow()
    db.session.flush()
    enqueue_attempt_after_commit(delivery.id, delivery.attempt_count + 1)


def signing_secrets(project: Project) -> list[str]:
    """The secrets that sign a project's callbacks: the current one, and the previous one during its grace period."""
    if not project.webhook_secret:
        project.webhook_secret = new_webhook_secret()
        db.session.flush()
    rotated = project.webhook_secret_rotated_at
    if project.previous_webhook_secret and rotated and utcnow() - rotated < ROTATION_GRACE:
        return [project.webhook_secret, project.previous_webhook_secret]
    return [project.webhook_secret]


def rotate_secret(project: Project) -> str:
    """A new signing secret; the old one still signs beside it for ROTATION_GRACE, then stops."""
    project.previous_webhook_secret = project.webhook_secret
    project.webhook_secret = new_webhook_secret()
    project.webhook_secret_rotated_at = utcnow()
    db.session.flush()
    return project.webhook_secret


def list_deliveries(project: Project, limit: int = 20, offset: int = 0) -> Page:
    """A project's deliveries, newest first, each with its attempts."""
    query = (
        sa.select(WebhookDelivery)
        .where(WebhookDelivery.project_id == project.id)
        .options(sa.orm.selectinload(WebhookDelivery.attempts))
    )
    return paginate(query, (WebhookDelivery.created_at.desc(), WebhookDelivery.id), limit, offset)


def get_delivery(project: Project, delivery_id: str) -> WebhookDelivery:
    """One delivery of the project; 404 for any other id (no hint that it exists elsewhere)."""
    return get_in_project(
        project, WebhookDelivery, delivery_id, not_found="That callback was not found in this project.",
        options=(sa.orm.selectinload(WebhookDelivery.attempts),),
    )
