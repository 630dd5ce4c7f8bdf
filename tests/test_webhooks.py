"""Signed outgoing callbacks, delivered by real RQ jobs to a receiver on 127.0.0.1 that verifies them
with the `standardwebhooks` package; retries are made due by moving stored times, never by sleeping."""
import io
import json
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.credits import service as credits
from app.extensions import db, redis_queues
from app.generations import lifecycle
from app.generations.models import Generation, GenerationStatus
from app.timeutil import utcnow
from app.webhooks.dispatch import QUEUE
from app.webhooks.models import DeliveryStatus, WebhookDelivery
from jobs.webhooks import sweep_deliveries
from tests.factories import photo_bytes
from tests.upstreams.receiver import WebhookReceiver


@pytest.fixture
def receiver(app, project):
    app.config["OUTBOUND_ALLOWLIST"] = ("127.0.0.1",)
    with WebhookReceiver(secret=project.webhook_secret) as server:
        yield server


def start_generation(api_client, url: str, **fields) -> str:
    """An enhance of an uploaded photo through the v1 API, with a callback URL; its id."""
    upload = api_client.post("/api/v1/images/upload", data={"file": (io.BytesIO(photo_bytes("kitchen_01.jpg")), "k.jpg")})
    body = {"preset": "enhance", "referenceImages": [upload.get_json()["data"]["id"]], "callbackUrl": url, **fields}
    response = api_client.post("/api/v1/generations", json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["data"]["id"]


def only_delivery() -> WebhookDelivery:
    db.session.expire_all()
    deliveries = db.session.scalars(sa.select(WebhookDelivery)).all()
    assert len(deliveries) == 1
    return deliveries[0]


def run_next_retry(worker) -> None:
    """Make the pending delivery's next attempt overdue, as if its wait had passed, and run it."""
    delivery = only_delivery()
    delivery.next_attempt_at = utcnow() - timedelta(hours=3)
    db.session.commit()
    assert sweep_deliveries() == [delivery.id]
    worker()


def test_finished_generation_is_posted_once_signed_with_the_project_secret(api_client, project, receiver, worker):
    generation_id = start_generation(api_client, receiver.url)

    worker()

    [received] = receiver.received
    assert received.verified
    assert received.webhook_id.startswith("msg_")
    payload = received.payload
    assert payload["type"] == "generation.succeeded"
    assert payload["data"]["id"] == generation_id and payload["data"]["status"] == "success"
    assert payload["data"]["outputImage"]["url"].startswith("http")
    delivery = only_delivery()
    assert delivery.id == received.webhook_id
    assert (delivery.status, delivery.surface, delivery.event_type) == (
        DeliveryStatus.DELIVERED, "v1", "generation.succeeded")
    [attempt] = delivery.attempts
    assert attempt.status_code == 200 and attempt.latency_ms >= 0 and attempt.error is None
    assert '"received": true' in attempt.response_excerpt
    assert db.session.get(Generation, generation_id).surface == "v1"


def test_failed_attempts_are_retried_with_backoff_under_the_same_id_until_one_succeeds(
    api_client, project, receiver, worker
):
    receiver.fail_next(2, status=503)
    start_generation(api_client, receiver.url)

    worker()

    delivery = only_delivery()
    assert delivery.status is DeliveryStatus.PENDING and delivery.attempt_count == 1
    assert round((delivery.next_attempt_at - delivery.attempts[0].attempted_at).total_seconds()) == 60
    # The retry waits in RQ's scheduled registry, which the workers' scheduler (`make run`) releases when due.
    scheduled = redis_queues.queue(QUEUE).scheduled_job_registry
    assert scheduled.get_job_ids() == [f"{delivery.id}-2"]
    when = scheduled.get_scheduled_time(f"{delivery.id}-2").replace(tzinfo=None)
    assert abs((when - delivery.next_attempt_at).total_seconds()) < 5

    run_next_retry(worker)
    delivery = only_delivery()
    assert delivery.attempt_count == 2
    assert round((delivery.next_attempt_at - delivery.attempts[1].attempted_at).total_seconds()) == 180

    run_next_retry(worker)

    delivery = only_delivery()
    assert delivery.status is DeliveryStatus.DELIVERED
    assert [a.status_code for a in delivery.attempts] == [503, 503, 200]
    assert receiver.ids() == [delivery.id] * 3
    assert all(received.verified for received in receiver.received)
    assert len({received.body for received in receiver.received}) == 1  # the body is built once
