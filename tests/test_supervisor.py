"""`flask up` keeps the product up: a killed worker or Redis comes back, and the site keeps answering."""
import os
import signal
import subprocess
import time

import psutil
import pytest
import requests

from app import supervisor
from app.embedded import start_redis
from app.extensions import db, redis_queues
from app.supervisor import Child
from app.generations.models import Generation, GenerationStatus
from tests import factories
from tests.flask_up import flask_up
from tests.processes import start_gate_worker, stop_tree, wait_for


@pytest.fixture
def product(request, app, config, tmp_path, project):
    """The product exactly as `flask up` starts it (embedded Redis under its var/, one worker), with an API key."""
    with flask_up(config, tmp_path, factories.make_api_key(project), **getattr(request, "param", {})) as running:
        yield running


def test_a_killed_worker_or_web_server_is_restarted_and_the_site_keeps_answering(product):
    worker_pid = product.child_pid("jobs.worker")
    os.kill(worker_pid, signal.SIGKILL)

    assert requests.get(f"{product.base_url}/login", timeout=30).status_code == 200
    restarted = wait_for(lambda: (pid := product.child_pid("jobs.worker")) != worker_pid and pid, "a new worker")
    assert restarted != worker_pid
    assert f"worker 1 (pid {worker_pid}) exited with -9; restarting" in product.log()
    assert product.process.poll() is None and product.healthy()

    web_pid = product.child_pid("gunicorn")
    os.kill(web_pid, signal.SIGKILL)  # the web server's master: its workers go with it
    wait_for(lambda: product.child_pid("gunicorn") not in (None, web_pid), "a new web server")
    wait_for(product.healthy, "the site to answer again")
    assert f"web server (pid {web_pid}) exited with -9; restarting" in product.log()


def test_a_killed_redis_is_restarted_from_its_data_and_new_work_completes(app, project, product):
    redis_pid = product.child_pid("redis-server")
    os.kill(redis_pid, signal.SIGKILL)

    wait_for(lambda: product.child_pid("redis-server") not in (None, redis_pid), "Redis to be restarted")
    wait_for(product.healthy, "the site to report healthy again")
    image = factories.make_image(project)
    created = requests.post(
        f"{product.base_url}/api/v1/generations", headers={"X-API-Key": product.api_key},
        json={"preset": "enhance", "referenceImages": [image.id]}, timeout=30,
    )
    assert created.status_code == 201, created.text
    generation_id = created.json()["data"]["id"]

    def finished():
        db.session.expire_all()
        generation = db.session.get(Generation, generation_id)
        return generation.status in (GenerationStatus.SUCCEEDED, GenerationStatus.FAILED) and generation

    generation = wait_for(finished, "the generation submitted after the restart to finish", poll=0.5)
    assert generation.status is GenerationStatus.SUCCEEDED, generation.error_message
    assert "redis-server" in product.log() and product.process.poll() is None


@pytest.fixture
def own_redis(app, tmp_path):
    """A redis-server of this test's own (AOF on, like the embedded one), which the test may kill and start again."""
    data_dir, socket_path = tmp_path / "own-redis", tmp_path / "own-redis" / "redis.sock"
    servers = [start_redis(data_dir, socket_path)]
    real_url = app.config["REDIS_URL"]
    app.config["REDIS_URL"] = f"unix://{socket_path}"
    redis_queues.init_app(app)
    yield lambda: servers.append(start_redis(data_dir, socket_path)) or servers[-1]
    app.config["REDIS_URL"] = real_url
    redis_queues.init_app(app)
    for server in servers:
        if server.poll() is None:
            server.kill()
            server.wait()


def test_a_busy_worker_that_loses_redis_waits_and_resumes_in_the_same_process(app, config, project, gate, own_redis, tmp_path):
    log_path = tmp_path / "worker.log"
    with open(log_path, "wb") as log:
        worker = start_gate_worker({**config, "REDIS_URL": app.config["REDIS_URL"]}, log_file=log)
    try:
        interrupted = gate.queue_generation(project)
        gate.wait_until_entered()  # the worker is busy with a job when Redis dies
        first_server = psutil.Process(int(redis_queues.connection.info()["process_id"]))
        first_server.kill()
        first_server.wait(15)
        own_redis()

        after = gate.queue_generation(project)
        gate.open(runs=2)

        def finished(generation_id):
            db.session.expire_all()
            generation = db.session.get(Generation, generation_id)
            return generation.is_terminal and generation

        generation = wait_for(lambda: finished(after.id), "the generation queued after the restart to finish", poll=0.5)
        assert generation.status is GenerationStatus.SUCCEEDED, generation.error_message
        assert worker.poll() is None, log_path.read_text(errors="replace")[-3000:]
        # The job Redis vanished under ends with that reason (and is refunded), never stuck.
        ended = wait_for(lambda: finished(interrupted.id), "the interrupted generation to end", poll=0.5)
        assert ended.status is GenerationStatus.SUCCEEDED or ended.error_code == "queue_unavailable", ended.error_message
    finally:
        stop_tree(worker)


def test_a_child_killed_after_it_started_fine_restarts_after_the_first_backoff_step():
    """A worker killed every few seconds from outside is not crash-looping: it must not wait out growing backoffs."""
    child = Child("sleeper", lambda: subprocess.Popen(["sleep", "60"], start_new_session=True))
    child.launch()
    child.backoff = supervisor.MAX_BACKOFF  # it had been dying at once before this start
    child.started_at -= 15  # and this time it had served for 15 s before it was killed
    child.process.kill()
    child.process.wait()
    before = time.monotonic()
    child.check()
    assert round(child.restart_at - before) == supervisor.FIRST_BACKOFF


def test_a_child_that_dies_at_once_waits_longer_each_time():
    child = Child("crasher", lambda: subprocess.Popen(["false"], start_new_session=True))
    waits = []
    for _ in range(3):
        child.launch()
        child.process.wait()
        before = time.monotonic()
        child.check()
        waits.append(round(child.restart_at - before))
    assert waits == [1, 2, 4]
