"""A worker killed with SIGKILL mid-job: the generation is retried or failed and refunded, never stuck."""
import os
import signal
from datetime import timedelta

import psutil
import pytest
import sqlalchemy as sa
from rq.job import Job, JobStatus

from app.credits import service as credits
from app.credits.models import CreditLedger
from app.extensions import db, redis_queues
from app.generations.models import Generation, GenerationStatus
from jobs.sweeper import sweep_generations
from tests.processes import start_gate_worker, stop_tree, wait_for


@pytest.fixture
def gate_worker(config, gate):
    """A real forking worker that knows the gate provider; stopped after the test unless the test killed it."""
    process = start_gate_worker(config)
    yield process
    if process.poll() is None:
        stop_tree(process)


def running_generation(project, gate) -> tuple[Generation, int]:
    """A generation that the worker has started and that waits at the gate, and the pid of its busy work horse."""
    generation = gate.queue_generation(project)
    horse_pid = gate.wait_until_entered()
    db.session.refresh(generation)
    assert generation.status is GenerationStatus.PROCESSING
    return generation, horse_pid


def started_earlier(generation: Generation, seconds: float) -> None:
    """Move the generation's stored times back, as if it had been created and started `seconds` ago."""
    shift = timedelta(seconds=seconds)
    generation.created_at -= shift
    generation.started_at -= shift
    db.session.commit()


def ledger_kinds(generation_id):
    query = sa.select(CreditLedger.kind).where(CreditLedger.generation_id == generation_id).order_by(CreditLedger.id)
    return [kind.value for kind in db.session.scalars(query)]


def test_killed_work_horse_is_retried_and_then_succeeds(project, gate, gate_worker, worker):
    generation, horse_pid = running_generation(project, gate)
    os.kill(horse_pid, signal.SIGKILL)
    job = Job.fetch(generation.id, connection=redis_queues.connection)
    wait_for(lambda: job.get_status(refresh=True) == JobStatus.FAILED, message="RQ to notice the dead horse")
    stop_tree(gate_worker)  # so that the retry runs below, in this process

    assert sweep_generations()["retried"] == [generation.id]
    gate.open()
    worker()

    db.session.refresh(generation)
    assert generation.status is GenerationStatus.SUCCEEDED
    assert generation.attempts == 2
    assert len(generation.outputs) == 1
    assert ledger_kinds(generation.id) == ["reserve", "capture"]  # charged exactly once


def test_killed_worker_on_last_attempt_is_failed_and_refunded_after_the_deadline(app, project, gate, gate_worker):
    generation, horse_pid = running_generation(project, gate)
    # The worker and its horse die at once with no chance to clean up, as when a machine is lost.
    # (RQ puts the horse in its own process group, so killing the worker's group would miss it.)
    children = psutil.Process(gate_worker.pid).children()
    assert horse_pid in [child.pid for child in children]
    for process in [psutil.Process(gate_worker.pid), *children]:
        process.kill()
    gate_worker.wait(15)

    db.session.refresh(generation)
    assert generation.status is GenerationStatus.PROCESSING, generation.error_message
    app.config["MAX_ATTEMPTS"] = 1
    started_earlier(generation, app.config["JOB_TIMEOUT"] + app.config["ABANDON_GRACE"] + 1)

    assert sweep_generations()["failed"] == [generation.id]

    db.session.refresh(generation)
    assert generation.status is GenerationStatus.FAILED
    assert generation.error_code == "worker_lost"
    assert ledger_kinds(generation.id) == ["reserve", "refund"]
    assert credits.balance(project.workspace_id) == 50
