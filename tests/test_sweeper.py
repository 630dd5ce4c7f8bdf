"""The sweeper: nothing stays queued or processing forever."""
from datetime import timedelta

from app.extensions import db, redis_queues
from app.generations.models import Generation, GenerationStatus
from app.generations.service import create_generation, enqueue_generation
from app.images.service import upload_image
from app.timeutil import utcnow
from jobs.sweeper import sweep_generations
from tests.factories import photo_bytes


def queued_generation(project) -> Generation:
    image = upload_image(project, photo_bytes("kitchen_02.jpg"), "kitchen.jpg")
    generation = create_generation(project, preset_id="enhance", reference_ids=[image.id])
    db.session.commit()
    return generation


def test_processing_generation_whose_job_vanished_is_failed_with_reason(project):
    generation = queued_generation(project)
    generation.status, generation.started_at = GenerationStatus.PROCESSING, utcnow()
    db.session.commit()

    result = sweep_generations()

    db.session.refresh(generation)
    assert result["failed"] == [generation.id]
    assert generation.status is GenerationStatus.FAILED
    assert "stopped before it finished" in generation.error_message


def test_processing_generation_past_its_timeout_is_failed_even_if_job_looks_alive(project, app):
    generation = queued_generation(project)
    enqueue_generation(generation)
    generation.status = GenerationStatus.PROCESSING
    generation.started_at = utcnow() - timedelta(seconds=app.config["JOB_TIMEOUT"] + 120)
    db.session.commit()

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
    enqueue_generation(generation)
    generation.created_at = utcnow() - timedelta(seconds=app.config["QUEUED_DEADLINE"] + 1)
    db.session.commit()

    sweep_generations()

    db.session.refresh(generation)
    assert generation.status is GenerationStatus.FAILED
    assert generation.error_code == "queue_timeout"
    redis_queues.queue("default").empty()


def test_sweeper_leaves_healthy_work_alone(project):
    generation = queued_generation(project)
    enqueue_generation(generation)
    assert sweep_generations() == {"failed": [], "requeued": []}
