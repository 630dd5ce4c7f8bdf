"""The sweeper: nothing stays queued or processing forever."""
from datetime import timedelta

import sqlalchemy as sa

from app.credits import service as credits
from app.credits.models import CreditLedger
from app.extensions import db, redis_queues
from app.generations.models import Generation, GenerationStatus
from app.generations.service import create_generation
from app.generations.spec import GenerationSpec
from app.images.service import upload_image
from app.timeutil import utcnow
from jobs.sweeper import sweep_generations
from tests.factories import photo_bytes


def queued_generation(project) -> Generation:
    """A committed generation, put on its RQ queue by the commit."""
    image = upload_image(project, photo_bytes("kitchen_02.jpg"), "kitchen.jpg")
    generation = create_generation(project, GenerationSpec(preset="enhance", references=[image.id]))
    db.session.commit()
    return generation


def lose_queued_jobs() -> None:
    """Drop every queued RQ job, as if Redis had been down when they were enqueued."""
    for queue in redis_queues.all_queues():
        queue.empty()


def running(generation, attempts=1, started_at=None):
    generation.status, generation.attempts = GenerationStatus.PROCESSING, attempts
    generation.started_at = started_at or utcnow()
    db.session.commit()


def test_processing_generation_whose_job_vanished_is_retried(project, worker):
    generation = queued_generation(project)
    lose_queued_jobs()
    running(generation)

    assert sweep_generations()["retried"] == [generation.id]
    worker()

    db.session.refresh(generation)
    assert generation.status is GenerationStatus.SUCCEEDED
    assert generation.attempts == 2


def test_vanished_job_on_its_last_attempt_is_failed_and_refunded(project, app):
    generation = queued_generation(project)
    lose_queued_jobs()
    balance_after_reserve = credits.balance(project.workspace_id)
    running(generation, attempts=app.config["MAX_ATTEMPTS"])

    assert sweep_generations()["failed"] == [generation.id]

    db.session.refresh(generation)
    assert generation.status is GenerationStatus.FAILED
    assert "stopped before it finished" in generation.error_message
    assert credits.balance(project.workspace_id) == balance_after_reserve + generation.cost


def test_processing_generation_past_its_timeout_is_failed_even_if_job_looks_alive(project, app):
    generation = queued_generation(project)
    running(generation, app.config["MAX_ATTEMPTS"], utcnow() - timedelta(seconds=app.config["JOB_TIMEOUT"] + 120))

    sweep_generations()

    db.session.refresh(generation)
    assert generation.status is GenerationStatus.FAILED


def test_queued_generation_whose_job_was_lost_is_enqueued_again(project, worker):
    generation = queued_generation(project)
    lose_queued_jobs()

    assert sweep_generations()["requeued"] == [generation.id]
    worker()

    db.session.refresh(generation)
    assert generation.status is GenerationStatus.SUCCEEDED


def test_generation_queued_past_the_deadline_is_failed(project, app):
    generation = queued_generation(project)
    generation.created_at = utcnow() - timedelta(seconds=app.config["QUEUED_DEADLINE"] + 1)
    db.session.commit()

    sweep_generations()

    db.session.refresh(generation)
    assert generation.status is GenerationStatus.FAILED
    assert generation.error_code == "queue_timeout"
    redis_queues.queue("default").empty()


def test_sweeper_leaves_healthy_work_alone(project):
    queued_generation(project)
    assert sweep_generations() == {"failed": [], "retried": [], "requeued": []}


def test_queued_generation_whose_queue_entry_was_lost_is_enqueued_again_and_charged_once(project, worker):
    generation = queued_generation(project)
    # As after a Redis crash: the job's hash came back from the append-only file, its queue list did not.
    for queue in redis_queues.all_queues():
        redis_queues.connection.delete(queue.key)
    assert redis_queues.connection.exists(f"rq:job:{generation.id}")

    assert sweep_generations()["requeued"] == [generation.id]
    worker()

    db.session.refresh(generation)
    assert generation.status is GenerationStatus.SUCCEEDED
    assert ledger_kinds(generation.id) == ["reserve", "capture"]


def test_queued_generations_come_back_after_redis_is_flushed(project, worker):
    generation = queued_generation(project)
    redis_queues.connection.flushdb()

    assert sweep_generations()["requeued"] == [generation.id]
    worker()

    db.session.refresh(generation)
    assert generation.status is GenerationStatus.SUCCEEDED
    assert ledger_kinds(generation.id) == ["reserve", "capture"]


def ledger_kinds(generation_id):
    query = sa.select(CreditLedger.kind).where(CreditLedger.generation_id == generation_id).order_by(CreditLedger.id)
    return [kind.value for kind in db.session.scalars(query)]
