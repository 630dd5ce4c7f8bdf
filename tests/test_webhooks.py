"""Signed outgoing callbacks, delivered by real RQ jobs to a receiver on 127.0.0.1 that verifies them
with the `standardwebhooks` package; retries are made due by moving stored times, never by sleeping."""
import io
from datetime import timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import sqlalchemy as sa

from app.credits import service as credits
from app.credits.models import CreditLedger
from app.extensions import db, redis_queues
from app.generations import lifecycle
from app.generations.models import Generation, GenerationStatus
from app.timeutil import utcnow
from app.webhooks.dispatch import QUEUE
from app.webhooks.models import DeliveryStatus, WebhookDelivery
from app.webhooks.service import send_test_event
from jobs.webhooks import sweep_deliveries
from tests.factories import photo_bytes
from tests.processes import start_worker, stop_tree, wait_for
from tests.upstreams.receiver import WebhookReceiver


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


def retry_wait_after(step) -> tuple[float, float]:
    """Run a step that records a failed attempt; the shortest and longest wait its retry can have been given.

    The wait is counted from when the answer was recorded, which lies between clock readings taken
    before and after the step, so a slow POST widens the bracket instead of adding to the wait.
    """
    before = utcnow()
    step()
    after = utcnow()
    scheduled = only_delivery().next_attempt_at
    return (scheduled - after).total_seconds(), (scheduled - before).total_seconds()


def ledger_kinds(generation_id: str) -> list[str]:
    rows = db.session.scalars(
        sa.select(CreditLedger).where(CreditLedger.generation_id == generation_id).order_by(CreditLedger.id)
    )
    return [row.kind.value for row in rows]


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

    shortest, longest = retry_wait_after(worker)

    delivery = only_delivery()
    assert delivery.status is DeliveryStatus.PENDING and delivery.attempt_count == 1
    assert shortest <= 60 <= longest
    # The retry waits in RQ's scheduled registry, which the workers' scheduler (`make run`) releases when due.
    scheduled = redis_queues.queue(QUEUE).scheduled_job_registry
    assert scheduled.get_job_ids() == [f"{delivery.id}-2"]
    when = scheduled.get_scheduled_time(f"{delivery.id}-2").replace(tzinfo=None)
    assert abs((when - delivery.next_attempt_at).total_seconds()) < 5

    shortest, longest = retry_wait_after(lambda: run_next_retry(worker))
    delivery = only_delivery()
    assert delivery.attempt_count == 2
    assert shortest <= 180 <= longest

    run_next_retry(worker)

    delivery = only_delivery()
    assert delivery.status is DeliveryStatus.DELIVERED
    assert [a.status_code for a in delivery.attempts] == [503, 503, 200]
    assert receiver.ids() == [delivery.id] * 3
    assert all(received.verified for received in receiver.received)
    assert len({received.body for received in receiver.received}) == 1  # the body is built once


def test_delivery_gives_up_after_five_retries_spread_over_about_two_hours(api_client, project, receiver, worker):
    receiver.fail_next(100)
    start_generation(api_client, receiver.url)
    waits = [retry_wait_after(worker)]
    for _ in range(4):
        waits.append(retry_wait_after(lambda: run_next_retry(worker)))
    run_next_retry(worker)

    delivery = only_delivery()
    delays = [60, 180, 540, 1620, 4860]
    assert all(shortest <= delay <= longest for delay, (shortest, longest) in zip(delays, waits, strict=True))
    assert 1.75 * 3600 <= sum(shortest for shortest, _ in waits)
    assert sum(longest for _, longest in waits) <= 2.5 * 3600
    assert delivery.status is DeliveryStatus.FAILED and delivery.next_attempt_at is None
    assert [a.status_code for a in delivery.attempts] == [500] * 6
    assert receiver.ids() == [delivery.id] * 6
    assert sweep_deliveries() == []  # nothing more is sent


def test_the_result_link_in_a_callback_still_opens_when_the_last_retry_arrives(app, api_client, receiver, worker):
    receiver.fail_next(100)
    start_generation(api_client, receiver.url)
    worker()
    for _ in range(5):
        run_next_retry(worker)

    delivery = only_delivery()
    first = delivery.attempts[0].attempted_at
    url = receiver.received[-1].payload["data"]["outputImage"]["url"]
    expires = int(parse_qs(urlsplit(url).query)["expires"][0])
    # The retries were made due by moving stored times, so "when the last one arrives" is the schedule's own time.
    arrives = first.replace(tzinfo=timezone.utc).timestamp() + sum(60 * 3**n for n in range(5))
    assert expires >= arrives + app.config["SIGNED_URL_TTL"]  # and the receiver still has the usual hour to fetch it


def test_redirect_is_recorded_and_not_followed(api_client, project, receiver, worker):
    with WebhookReceiver(secret=project.webhook_secret) as elsewhere:
        receiver.redirect_to(elsewhere.url)
        start_generation(api_client, receiver.url)

        worker()

        assert elsewhere.received == []
    delivery = only_delivery()
    [attempt] = delivery.attempts
    assert attempt.status_code == 307 and "redirect" in attempt.error
    assert delivery.status is DeliveryStatus.PENDING  # retried later, at the address given


def test_slow_receiver_times_out_and_is_retried(app, api_client, project, receiver, worker):
    app.config["WEBHOOK_TIMEOUT"] = 0.5
    receiver.hold()  # it answers only once the test releases it, long after the timeout
    start_generation(api_client, receiver.url)

    worker()
    receiver.release()

    assert receiver.waiting.is_set()
    delivery = only_delivery()
    [attempt] = delivery.attempts
    assert attempt.status_code is None and "took too long to answer" in attempt.error
    assert delivery.status is DeliveryStatus.PENDING and delivery.attempt_count == 1


def test_private_callback_address_is_refused_without_the_allowlist(app, api_client, receiver):
    app.config["OUTBOUND_ALLOWLIST"] = ()
    upload = api_client.post("/api/v1/images/upload", data={"file": (io.BytesIO(photo_bytes("kitchen_01.jpg")), "k.jpg")})
    body = {"preset": "enhance", "referenceImages": [upload.get_json()["data"]["id"]]}

    for url in (receiver.url, "http://169.254.169.254/latest/meta-data", "http://10.0.0.8/hook", "ftp://example.com/x"):
        response = api_client.post("/api/v1/generations", json={**body, "callbackUrl": url})
        assert response.status_code == 400, url
        assert "callbackUrl" in response.get_json()["error"]["message"]
    assert db.session.scalar(sa.select(sa.func.count(Generation.id))) == 0


def test_address_that_turns_private_later_is_not_called_and_not_retried(app, api_client, project, receiver, worker):
    start_generation(api_client, receiver.url)
    app.config["OUTBOUND_ALLOWLIST"] = ()  # as if the host's DNS now pointed inside the network

    worker()

    delivery = only_delivery()
    assert receiver.received == []
    assert delivery.status is DeliveryStatus.FAILED
    assert "not a public internet address" in delivery.attempts[0].error


def test_a_generation_that_ends_twice_is_settled_and_reported_once(api_client, project, receiver, worker):
    generation_id = start_generation(api_client, receiver.url)
    worker()
    generation = db.session.get(Generation, generation_id)

    assert not lifecycle.fail_generation(generation, "late", "A late failure report.")  # e.g. a duplicate webhook
    db.session.commit()
    worker()

    assert len(receiver.received) == 1
    assert only_delivery().event_type == "generation.succeeded"
    assert credits.balance(project.workspace_id) == 50 - generation.cost
    assert ledger_kinds(generation_id) == ["reserve", "capture"]


def test_callback_failures_leave_the_refund_of_a_canceled_generation_alone(api_client, project, receiver, worker):
    receiver.fail_next(100)
    generation_id = start_generation(api_client, receiver.url)
    assert api_client.post(f"/api/v1/generations/{generation_id}/cancel").status_code == 200

    worker()
    for _ in range(5):
        run_next_retry(worker)

    delivery = only_delivery()
    assert delivery.status is DeliveryStatus.FAILED
    assert receiver.received[0].payload["type"] == "generation.canceled"
    generation = db.session.get(Generation, generation_id)
    assert generation.status is GenerationStatus.CANCELED
    assert credits.balance(project.workspace_id) == 50  # refunded once, whatever happened to the message
    assert ledger_kinds(generation_id) == ["reserve", "refund"]


def test_generation_without_callback_url_sends_nothing(api_client, receiver, worker):
    upload = api_client.post("/api/v1/images/upload", data={"file": (io.BytesIO(photo_bytes("kitchen_01.jpg")), "k.jpg")})
    api_client.post("/api/v1/generations", json={"preset": "enhance", "referenceImages": [upload.get_json()["data"]["id"]]})

    worker()

    assert db.session.scalar(sa.select(sa.func.count(WebhookDelivery.id))) == 0
    assert receiver.received == []


def test_the_workers_of_make_run_send_a_scheduled_retry_when_it_is_due(config, project, receiver):
    """No test hook here: a real forking worker, as `make run` starts it, whose RQ scheduler releases the retry."""
    receiver.fail_next(1)
    send_test_event(project, receiver.url)
    db.session.commit()
    process = start_worker(config, OUTBOUND_ALLOWLIST="127.0.0.1", WEBHOOK_RETRY_BASE=1)
    try:
        wait_for(lambda: len(receiver.received) >= 2, "the scheduled retry to arrive")
    finally:
        stop_tree(process)

    first, second = receiver.received
    assert (first.answered, second.answered) == (500, 200)
    assert first.webhook_id == second.webhook_id and second.verified


def test_sweeper_requeues_a_delivery_whose_job_was_lost_and_leaves_a_queued_one_alone(project, receiver, worker):
    delivery = send_test_event(project, receiver.url)
    db.session.commit()
    delivery.next_attempt_at = utcnow() - timedelta(minutes=10)  # its worker is busy, or Redis lost the job
    db.session.commit()

    assert sweep_deliveries() == []  # still on its queue: no second copy
    redis_queues.connection.flushdb()
    assert sweep_deliveries() == [delivery.id]
    worker()

    assert receiver.ids() == [delivery.id]
    assert only_delivery().status is DeliveryStatus.DELIVERED


def test_a_payload_that_cannot_be_built_ends_the_delivery_with_a_reason(api_client, receiver, worker, monkeypatch):
    from jobs import webhooks as webhook_jobs

    def broken(generation):
        raise KeyError("outputImage")

    monkeypatch.setitem(webhook_jobs.PAYLOAD_BUILDERS, "v1", broken)
    start_generation(api_client, receiver.url)

    worker()

    delivery = only_delivery()
    assert receiver.received == []
    assert delivery.status is DeliveryStatus.FAILED and delivery.body is None
    assert "could not be put together" in delivery.attempts[0].error
