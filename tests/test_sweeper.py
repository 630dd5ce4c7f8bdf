"""The sweeper: nothing stays queued or processing forever."""
from datetime import timedelta

from app.credits import service as credits
from app.extensions import db, redis_queues
from app.generations.models import Generation, GenerationStatus
from app.generations.lifecycle import dispatch
from app.generations.service import create_generation
from app.images.service import upload_image
from app.timeutil import utcnow
from jobs.sweeper import sweep_generations
from tests.factories import photo_bytes


def queued_generation(project) -> Generation:
    image = upload_image(project, photo_bytes("kitchen_02.jpg"), "kitchen.jpg")
    generation = create_generation(project, preset_id="enhance", reference_ids=[image.id])
    db.session.commit()
    return generation


def running(generation, attempts=1, started_at=None):
    generation.status, generation.attempts = GenerationStatus.PROCESSING, attempts
    generation.started_at = started_at or utcnow()
    db.session.commit()


def test_processing_generation_whose_job_vanished_is_retried(project, worker):
    generation = queued_generation(project)
    running(generation)

    assert sweep_generations()["retried"] == [generation.id]
    worker()

    db.session.refresh(generation)
    assert generation.status is GenerationStatus.SUCCEEDED
    assert generation.attempts == 2


def test_vanished_job_on_its_last_attempt_is_failed_and_refunded(project, app):
    generation = queued_generation(project)
    balance_after_reserve = credits.balance(project.workspace_id)
    running(generation, attempts=app.config["MAX_ATTEMPTS"])

    assert sweep_generations()["failed"] == [generation.id]

    db.session.refresh(generation)
    assert generation.status is GenerationStatus.FAILED
    assert "stopped before it finished" in generation.error_message
    assert credits.balance(project.workspace_id) == balance_after_reserve + generation.cost


def test_processing_generation_past_its_timeout_is_failed_even_if_job_looks_alive(project, app):
    generation = queued_generation(project)
    dispatch(generation)
    running(generation, app.config["MAX_ATTEMPTS"], utcnow() - timedelta(seconds=app.config["JOB_TIMEOUT"] + 120))

    sweep_generations()

    db.session.refresh(generation)
    assert generation.status is GenerationStatus.FAILED


def test_queued_generation_whose_job_was_lost_is_enqueued_again(project, worker):
    generation = queued_generation(project)  # committed but never enqueued, as if Redis had been down

    assert sweep_generations()["requeued"] == [generation.id]
    worker()

    db.session.refresh(generation)
    assert generation.status is GenerationStatus.SUCCEEDED


def test_generation_queued_past_the_deadline_is_failed(project, app):
    generation = queued_generation(project)
    dispatch(generation)
    generation.created_at = utcnow() - timedelta(seconds=app.config["QUEUED_DEADLINE"] + 1)
    db.session.commit()

    sweep_generations()

    db.session.refresh(generation)
    assert generation.status is GenerationStatus.FAILED
    assert generation.error_code == "queue_timeout"
    redis_queues.queue("default").empty()


def test_sweeper_leaves_healthy_work_alone(project):
    generation = queued_generation(project)
    dispatch(generation)
    assert sweep_generations() == {"failed": [], "retried": [], "requeued": []}
