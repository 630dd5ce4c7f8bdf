"""`flask up` keeps the product up: a killed worker or Redis comes back, and the site keeps answering."""
import os
import random
import signal
import subprocess
import sys

import psutil
import pytest
import requests
import sqlalchemy as sa

from app.credits.models import CreditLedger
from app.embedded import start_redis
from app.extensions import db, redis_queues
from app.generations.models import Generation, GenerationStatus
from app.images.storage import storage
from tests import factories
from tests.processes import ROOT, free_port, process_env, start_gate_worker, stop_tree, wait_for, wait_until_healthy


@pytest.fixture
def product(request, app, config, tmp_path, project):
    """The product exactly as `flask up` starts it (embedded Redis under its var/, one worker), with an API key."""
    port = free_port()
    env = {
        **process_env(config),
        "REDIS_URL": f"unix://{tmp_path / 'redis' / 'redis.sock'}",
        "HOST": "127.0.0.1", "PORT": str(port), "WORKERS": "1", "WEB_CONCURRENCY": "1", "MCP_PORT": "0",
        **getattr(request, "param", {}),
    }
    log_path = tmp_path / "up.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", "up"], cwd=ROOT, env=env,
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(base_url, process, workers=int(env["WORKERS"]), log=log_path)
        yield Product(process, base_url, log_path, factories.make_api_key(project))
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(60)
        finally:
            stop_tree(process)


class Product:
    def __init__(self, process, base_url, log_path, api_key):
        self.process, self.base_url, self.log_path, self.api_key = process, base_url, log_path, api_key

    def child_pid(self, marker: str) -> int | None:
        """The pid of the supervisor's child whose command line contains marker."""
        pids = self.child_pids(marker)
        return pids[0] if pids else None

    def child_pids(self, marker: str) -> list[int]:
        """The pids of the supervisor's live children whose command line contains marker."""
        pids = []
        for child in psutil.Process(self.process.pid).children():
            try:
                if any(marker in part for part in child.cmdline()) and child.status() != psutil.STATUS_ZOMBIE:
                    pids.append(child.pid)
            except psutil.NoSuchProcess:
                continue
        return pids

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def healthy(self) -> bool:
        try:
            return requests.get(f"{self.base_url}/healthz", timeout=10).status_code == 200
        except requests.ConnectionError:
            return False


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


# `make soak` raises it (SOAK_GENERATIONS=200); `make test` runs the short version.
GENERATIONS_UNDER_FAULTS = int(os.environ.get("SOAK_GENERATIONS", "10"))


@pytest.mark.parametrize("product", [{"WORKERS": "2", "SWEEP_INTERVAL": "5"}], indirect=True)
def test_generations_under_killed_workers_and_a_redis_restart_all_end_charged_once(app, project, product):
    """The short fault run: workers killed while generations run, Redis killed once; every generation ends,
    none is charged twice, each success has its file, and the site never refused a connection."""
    api = {"X-API-Key": product.api_key}
    images = [factories.make_image(project).id for _ in range(GENERATIONS_UNDER_FAULTS)]
    generation_ids = []
    refused = 0
    # A fault after every third submission: workers killed, Redis killed once early and once halfway.
    slots = GENERATIONS_UNDER_FAULTS // 3
    faults = ["redis" if slot in (1, max(2, slots // 2)) else "worker" for slot in range(slots)]
    for number, image_id in enumerate(images):
        answer = None
        while answer is None or answer.status_code == 503:  # 503 with Retry-After while Redis restarts
            try:
                answer = requests.post(f"{product.base_url}/api/v1/generations", headers=api,
                                       json={"preset": "enhance", "referenceImages": [image_id]}, timeout=60)
            except requests.ConnectionError:
                refused += 1
                answer = None
        assert answer.status_code == 201, answer.text
        generation_ids.append(answer.json()["data"]["id"])
        if number % 3 == 1 and faults:
            inject(product, faults.pop(0))

    def all_ended():
        db.session.expire_all()
        rows = [db.session.get(Generation, generation_id) for generation_id in generation_ids]
        return all(row.is_terminal for row in rows) and rows

    rows = wait_for(all_ended, "every generation to end", poll=1)
    for row in rows:
        kinds = [kind.value for kind in db.session.scalars(
            sa.select(CreditLedger.kind).where(CreditLedger.generation_id == row.id).order_by(CreditLedger.id))]
        assert kinds in (["reserve", "capture"], ["reserve", "refund"]), (row.id, row.status, kinds)
        if row.status is GenerationStatus.SUCCEEDED:
            assert all(storage().exists(image.storage_key) for image in row.outputs)
    assert refused == 0
    assert sum(row.status is GenerationStatus.SUCCEEDED for row in rows) > 0


def inject(product, fault: str) -> None:
    """SIGKILL one worker (its running job carries on in its work horse) or the embedded Redis."""
    pids = product.child_pids("jobs.worker" if fault == "worker" else "redis-server")
    if pids:
        os.kill(random.choice(pids), signal.SIGKILL)
