"""A worker killed with SIGKILL mid-job: the generation is retried or failed and refunded, never stuck."""
import os
import signal
import time

import psutil
import sqlalchemy as sa
from rq.job import Job, JobStatus

from app.credits import service as credits
from app.credits.models import CreditLedger
from app.extensions import db, redis_queues
from app.generations import lifecycle
from app.generations.models import Generation, GenerationStatus
from app.generations.service import create_generation
from app.images.service import upload_image
from jobs.sweeper import sweep_generations
from tests.processes import start_worker, stop_tree
from tests.test_lifecycle import big_photo


def wait_for(condition, timeout=30.0, message="condition"):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {message}"
        time.sleep(0.02)


def running_generation(app, config, project):
    """A generation that a real forking worker has started on a photo that takes seconds to enhance."""
    app.config["MAX_UPLOAD_BYTES"] = 50 * 1024 * 1024
    image = upload_image(project, big_photo(), "big.jpg")
    generation = create_generation(project, preset_id="enhance", reference_ids=[image.id])
    db.session.commit()
    lifecycle.dispatch(generation)
    worker = start_worker(config)

    def is_processing():
        db.session.expire_all()
        return db.session.get(Generation, generation.id).status is GenerationStatus.PROCESSING

    wait_for(is_processing, message="the worker to start the job")
    return generation, worker


def ledger_kinds(generation_id):
    query = sa.select(CreditLedger.kind).where(CreditLedger.generation_id == generation_id).order_by(CreditLedger.id)
    return [kind.value for kind in db.session.scalars(query)]


def test_killed_work_horse_is_retried_and_then_succeeds(app, config, project, worker):
    generation, worker_process = running_generation(app, config, project)
    try:
        # The newest child is the work horse (the older one is the worker's scheduler).
        horse = max(psutil.Process(worker_process.pid).children(), key=lambda child: child.create_time())
        os.kill(horse.pid, signal.SIGKILL)
        job = Job.fetch(generation.id, connection=redis_queues.connection)
        wait_for(lambda: job.get_status(refresh=True) == JobStatus.FAILED, message="RQ to notice the dead horse")
    finally:
        stop_tree(worker_process)

    assert sweep_generations()["retried"] == [generation.id]
    worker()

    db.session.refresh(generation)
    assert generation.status is GenerationStatus.SUCCEEDED
    assert generation.attempts == 2
    assert ledger_kinds(generation.id) == ["reserve", "capture"]  # charged exactly once


def test_killed_worker_on_last_attempt_is_failed_and_refunded_after_the_deadline(app, config, project):
    generation, worker_process = running_generation(app, config, project)
    # The worker and its horse die at once with no chance to clean up, as when a machine is lost.
    # (RQ puts the horse in its own process group, so killing the worker's group would miss it.)
    for process in [psutil.Process(worker_process.pid), *psutil.Process(worker_process.pid).children()]:
        process.kill()
    worker_process.wait(15)
    app.config.update(MAX_ATTEMPTS=1, JOB_TIMEOUT=1, ABANDON_GRACE=0)
    time.sleep(1.5)  # past the deadline (job timeout + grace) configured above

    db.session.refresh(generation)
    assert generation.status is GenerationStatus.PROCESSING, generation.error_message
    assert sweep_generations()["failed"] == [generation.id]

    db.session.refresh(generation)
    assert generation.status is GenerationStatus.FAILED
    assert generation.error_code == "worker_lost"
    assert ledger_kinds(generation.id) == ["reserve", "refund"]
    assert credits.balance(project.workspace_id) == 50
