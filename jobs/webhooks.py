"""RQ jobs for outgoing callbacks: deliver one attempt, and sweep up deliveries whose job was lost."""
import logging

from flask import current_app
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

from app.compat.fal.serializers import webhook_payload as fal_webhook
from app.compat.nanobanana.serializers import callback_payload as nanobanana_callback
from app.extensions import db, redis_queues
from app.generations.models import Generation
from app.generations.serializers import generation_json
from app.images.storage import links_valid_for
from app.projects.models import Project
from app.timeutil import isoformat, utcnow
from app.webhooks import service as webhooks
from app.webhooks.models import WebhookDelivery
from app.webhooks.sender import send

log = logging.getLogger(__name__)


def v1_payload(generation: Generation) -> dict:
    """The v1 API's callback: the event, when it happened, and the generation as GET /api/v1/generations/<id> shows it."""
    return {
        "type": f"generation.{generation.status.value}",
        "timestamp": isoformat(generation.finished_at or utcnow()),
        "data": generation_json(generation),
    }


# The body of a generation's callback, by the API surface the caller used; compat surfaces add theirs.
PAYLOAD_BUILDERS = {"v1": v1_payload, "fal": fal_webhook, "nanobanana": nanobanana_callback}


def deliver(delivery_id: str, attempt: int | None = None) -> str:
    """Make attempt number `attempt` (default: the next) of a delivery: build the body once, sign, POST, record."""
    delivery = db.session.get(WebhookDelivery, delivery_id)
    if delivery is None:
        return "gone"
    claimed = webhooks.claim_attempt(delivery, attempt)
    if claimed is None:
        db.session.rollback()
        return "not due"  # another job made this attempt, or the delivery already ended
    problem = build_body(delivery)
    if problem:
        webhooks.give_up(delivery, claimed, problem)
        db.session.commit()
        return delivery.status.value
    secrets = webhooks.signing_secrets(db.session.get(Project, delivery.project_id))
    message_id, url, body = delivery.id, delivery.url, delivery.body
    db.session.commit()  # the claim is durable before anything leaves: no lock is held while we wait
    outcome = send(message_id, url, body, secrets)
    webhooks.record_answer(
        delivery, claimed, outcome.status_code, outcome.latency_ms, outcome.excerpt, outcome.error, outcome.retryable
    )
    db.session.commit()
    return delivery.status.value


def build_body(delivery: WebhookDelivery) -> str | None:
    """Give the delivery its body on its first attempt; what went wrong if it cannot have one."""
    if delivery.body is not None:
        return None
    generation = db.session.get(Generation, delivery.generation_id) if delivery.generation_id else None
    if generation is None:
        return "The generation was deleted before its callback could be sent."
    builder = PAYLOAD_BUILDERS.get(delivery.surface)
    if builder is None:
        log.error("no callback payload for surface %r (delivery %s)", delivery.surface, delivery.id)
        return "This kind of callback cannot be built; please tell the administrator."
    try:
        with links_valid_for(webhooks.link_lifetime()):
            payload = builder(generation)
    except Exception:
        log.exception("the %s callback payload of generation %s could not be built", delivery.surface, generation.id)
        return "The message could not be put together; please tell the administrator."
    webhooks.set_body(delivery, payload)
    return None


def sweep_deliveries() -> list[str]:
    """Queue again every pending delivery whose next attempt is overdue and not waiting on a queue.

    Its job was lost with Redis, never queued, or is still scheduled when it should have run (no scheduler).
    """
    due = webhooks.due_deliveries(grace=2 * current_app.config["SWEEP_INTERVAL"])
    overdue = [delivery for delivery in due if not _waiting_on_a_queue(f"{delivery.id}-{delivery.attempt_count + 1}")]
    for delivery in overdue:
        webhooks.requeue(delivery)
    db.session.commit()
    if overdue:
        log.warning("callback sweeper: requeued %d deliveries", len(overdue))
    return [delivery.id for delivery in overdue]


def _waiting_on_a_queue(job_id: str) -> bool:
    try:
        status = Job.fetch(job_id, connection=redis_queues.connection).get_status()
    except NoSuchJobError:
        return False
    return status in (JobStatus.QUEUED, JobStatus.STARTED)
