"""Generation lifecycle: priorities, cancel, idempotency, retries, workspace concurrency."""
import os

import sqlalchemy as sa

from app.credits import service as credits
from app.extensions import db, redis_queues
from app.generations import estimates
from app.generations.models import Generation, GenerationStatus
from app.generations.service import create_generation
from app.generations.spec import GenerationSpec
from app.timeutil import utcnow
from tests.factories import make_image, make_project, make_user


def submit(api_client, image, **extra):
    body = {"preset": "enhance", "referenceImages": [image.id], **extra}
    return api_client.post("/api/v1/generations", json=body)


def test_priority_maps_onto_high_default_and_low_queues(api_client, project):
    image = make_image(project)
    ids = {p: submit(api_client, image, priority=p).get_json()["data"]["id"] for p in (5, 0, -3)}
    assert redis_queues.queue("high").job_ids == [ids[5]]
    assert redis_queues.queue("default").job_ids == [ids[0]]
    assert redis_queues.queue("low").job_ids == [ids[-3]]


def test_invalid_priority_is_400(api_client, project):
    response = submit(api_client, make_image(project), priority="urgent")
    assert response.status_code == 400
    assert "priority" in response.get_json()["error"]["message"]


def test_status_shows_queue_position_and_eta_once_durations_are_known(api_client, project, worker):
    image = make_image(project)
    first = submit(api_client, image).get_json()["data"]
    second = submit(api_client, image).get_json()["data"]
    assert (first["queuePosition"], second["queuePosition"]) == (1, 2)
    assert second["etaSeconds"] is None  # no run measured yet
    worker()
    third = submit(api_client, image).get_json()["data"]
    assert third["queuePosition"] == 1
    # Next in line for the one worker: one average run, however long runs take on this machine.
    average = float(redis_queues.connection.hget(estimates.DURATIONS_KEY, "local:"))
    assert third["etaSeconds"] == round(average, 1)


def test_cancel_of_queued_generation_is_immediate_and_refunded(api_client, project, worker):
    generation_id = submit(api_client, make_image(project)).get_json()["data"]["id"]
    response = api_client.post(f"/api/v1/generations/{generation_id}/cancel")
    assert response.status_code == 200
    assert response.get_json()["data"]["error"]["message"] == "canceled"
    worker()  # its RQ job finds nothing to do
    generation = db.session.get(Generation, generation_id)
    assert generation.status is GenerationStatus.CANCELED and generation.attempts == 0
    assert credits.balance(project.workspace_id) == 50


def test_cancel_requested_while_running_stops_at_next_step_and_refunds(project, worker):
    image = make_image(project)
    generation = create_generation(project, GenerationSpec(preset="enhance", references=[image.id]))
    generation.cancel_requested_at = utcnow()  # as if the request arrived right after the worker started it
    db.session.commit()
    worker()
    db.session.refresh(generation)
    assert generation.status is GenerationStatus.CANCELED
    assert generation.outputs == []
    assert credits.balance(project.workspace_id) == 50


def test_cancel_of_finished_generation_is_409(api_client, project, worker):
    generation_id = submit(api_client, make_image(project)).get_json()["data"]["id"]
    worker()
    response = api_client.post(f"/api/v1/generations/{generation_id}/cancel")
    assert response.status_code == 409
    assert "already ended (succeeded)" in response.get_json()["error"]["message"]


def test_cancel_from_the_page_follows_the_same_rule(logged_in, api_client, project, worker):
    generation_id = submit(api_client, make_image(project)).get_json()["data"]["id"]
    worker()
    response = logged_in.post(f"/generations/{generation_id}/cancel", headers={"HX-Request": "true"})
    assert response.status_code == 409
    assert response.headers["HX-Retarget"] == "#errors"
    assert "already ended (succeeded)" in response.get_data(as_text=True)
    assert db.session.get(Generation, generation_id).status is GenerationStatus.SUCCEEDED


def test_same_idempotency_key_and_body_returns_original_response(api_client, project):
    image = make_image(project)
    headers = {"Idempotency-Key": "order-42"}
    first = api_client.post("/api/v1/generations", json={"preset": "enhance", "referenceImages": [image.id]}, headers=headers)
    again = api_client.post("/api/v1/generations", json={"preset": "enhance", "referenceImages": [image.id]}, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert db.session.scalar(sa.select(sa.func.count(Generation.id))) == 1
    assert credits.balance(project.workspace_id) == 49


def test_same_idempotency_key_with_different_body_is_409(api_client, project):
    image = make_image(project)
    headers = {"Idempotency-Key": "order-43"}
    api_client.post("/api/v1/generations", json={"preset": "enhance", "referenceImages": [image.id]}, headers=headers)
    other = api_client.post(
        "/api/v1/generations", json={"preset": "enhance", "referenceImages": [image.id], "priority": 1}, headers=headers
    )
    assert other.status_code == 409
    assert "different request body" in other.get_json()["error"]["message"]


def test_failed_request_does_not_burn_its_idempotency_key(api_client, project):
    image = make_image(project)
    headers = {"Idempotency-Key": "order-44"}
    credits.adjust(project.workspace_id, -50, None, "drain")
    db.session.commit()
    body = {"preset": "enhance", "referenceImages": [image.id]}
    assert api_client.post("/api/v1/generations", json=body, headers=headers).status_code == 402
    credits.adjust(project.workspace_id, 5, None, "top up")
    db.session.commit()
    assert api_client.post("/api/v1/generations", json=body, headers=headers).status_code == 201


def test_workspace_at_its_concurrency_limit_waits_while_others_run(app, project, worker):
    app.config["WORKSPACE_CONCURRENCY"] = 1
    image = make_image(project)
    busy = create_generation(project, GenerationSpec(preset="enhance", references=[image.id]))
    waiting = create_generation(project, GenerationSpec(preset="enhance", references=[image.id]))
    other_project = make_project(make_user())
    other_spec = GenerationSpec(preset="enhance", references=[make_image(other_project).id])
    other = create_generation(other_project, other_spec)
    busy.status = GenerationStatus.PROCESSING  # another worker is on it
    db.session.commit()

    worker()

    db.session.refresh(waiting)
    db.session.refresh(other)
    assert other.status is GenerationStatus.SUCCEEDED
    assert waiting.status is GenerationStatus.QUEUED
    assert redis_queues.queue("default").scheduled_job_registry.get_job_ids() == [waiting.rq_job_id]
    assert waiting.rq_job_id != waiting.id  # a fresh job id, so the finishing job cannot overwrite it


def test_timeout_is_retried_with_backoff_and_keeps_its_reservation(app, project, gate, worker):
    app.config["JOB_TIMEOUT"] = 1  # the gate stays shut, so the job is still running when its time is up
    generation = gate.queue_generation(project)

    worker()

    assert gate.entered() == [os.getpid()]  # the alarm stopped it while it waited at the gate
    db.session.refresh(generation)
    assert generation.status is GenerationStatus.QUEUED
    assert (generation.attempts, generation.error_code) == (1, "timeout")
    assert generation.rq_job_id == f"{generation.id}-2"
    scheduled = redis_queues.queue("default").scheduled_job_registry
    assert scheduled.get_job_ids() == [generation.rq_job_id]
    assert credits.balance(project.workspace_id) == 50 - generation.cost
