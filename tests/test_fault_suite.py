"""The fault suite: generations through the API while the product's parts and its AI providers fail.

The product runs as `flask up` starts it (two workers, embedded Redis), with fal, nanobanana and Gemini
connected to their stand-ins in fault mode (tests/upstreams/faults.py: 30 % 5xx, 10 % late answers,
5 % cut-off JSON, 5 % duplicate or early callbacks, from a seeded generator). While the generations
run, a random worker is killed every few seconds, Redis is killed twice, and the disk fills once
(STORAGE_FAULT_SWITCH: the real write path gets ENOSPC) and is freed. At the end every generation has
ended, each holds a reserve and exactly one capture or refund, every success has its file, the ledger
matches the balance, and the site never refused a connection (503 with Retry-After is allowed).

The product's own timeouts are set small (PROVIDER_TIMEOUT 1 s, JOB_TIMEOUT 10 s) so that a late answer or
a killed worker costs seconds, not minutes. `make test` runs 8 generations; `make soak` runs
SOAK_GENERATIONS (200) and prints the figures for the README's reliability table. FAULT_SEED (default 22)
picks the faults. Only invariants are asserted, never durations.
"""
import os
import random
import threading
import time
from collections import Counter

import pytest
import requests
import sqlalchemy as sa

from app.credits import service as credits
from app.credits.models import CreditLedger
from app.extensions import db
from app.generations.models import Generation, GenerationStatus
from app.images.storage import storage
from tests import factories
from tests.flask_up import flask_up
from tests.upstreams import gemini as gemini_upstream_module
from tests.upstreams import nanobanana as nanobanana_upstream_module
from tests.upstreams.fal import EDIT_MODEL
from tests.upstreams.faults import Faults

GENERATIONS = int(os.environ.get("SOAK_GENERATIONS") or 8)
SEED = int(os.environ.get("FAULT_SEED") or 22)
PROVIDER_TIMEOUT = 1  # the product's, in seconds: the stand-ins' late answers come after it
WORKER_KILL_EVERY = 8  # seconds
# The soak retries through RQ's scheduler, as production does; the short run retries at once, because a
# scheduler killed with Redis holds its lock for a minute (the README's "left as they are").
RETRY_BACKOFF = 1 if os.environ.get("SOAK_GENERATIONS") else 0
POLL_EVERY = 0.2  # seconds between availability probes
# Only a guard against a hang: a phase ends when its generations have ended, however long that takes.
PHASE_GUARD = 900


@pytest.fixture
def faults():
    return Faults(SEED)


@pytest.fixture
def stand_ins_in_fault_mode(faults, fal_queue, nanobanana_upstream, gemini_upstream) -> dict:
    """The three AI services' stand-ins, failing as `faults` draws; the product's settings to reach them."""
    fal_queue.fault_mode(faults, slow=PROVIDER_TIMEOUT + 0.5)
    nanobanana_upstream.fault_mode(faults, slow=PROVIDER_TIMEOUT + 0.5)
    nanobanana_upstream.finish_new_tasks(1)
    gemini_upstream.fault_mode(faults, slow=6 * PROVIDER_TIMEOUT + 0.5)  # Gemini has 6× the timeout
    return {
        "FAL_KEY": fal_queue.key, "FAL_QUEUE_URL": fal_queue.url,
        "NANOBANANA_API_KEY": nanobanana_upstream_module.API_KEY, "NANOBANANA_BASE_URL": nanobanana_upstream.base_url,
        "GEMINI_API_KEY": gemini_upstream_module.API_KEY, "GEMINI_BASE_URL": gemini_upstream.base_url,
    }


@pytest.fixture
def product(app, config, tmp_path, project, stand_ins_in_fault_mode):
    credits.adjust(project.workspace_id, GENERATIONS * 20, None, "the fault suite's generations")
    db.session.commit()
    settings = {
        **stand_ins_in_fault_mode,
        "WORKERS": 2, "SWEEP_INTERVAL": 5, "PROVIDER_TIMEOUT": PROVIDER_TIMEOUT, "RETRY_BACKOFF": RETRY_BACKOFF,
        "PROVIDER_POLL_INTERVAL": 0.2, "PROVIDER_POLL_MAX": 1, "PROVIDER_COOLDOWN": 5,
        "JOB_TIMEOUT": 10, "ABANDON_GRACE": 2, "API_RATE_LIMIT": 1000, "OUTBOUND_ALLOWLIST": "127.0.0.1",
        "PUBLIC_BASE_URL": lambda base_url: base_url, "STORAGE_FAULT_SWITCH": tmp_path / "disk-is-full",
    }
    with flask_up(config, tmp_path, factories.make_api_key(project), **settings) as running:
        running.disk_switch = tmp_path / "disk-is-full"
        yield running


def test_generations_under_provider_faults_killed_workers_redis_and_a_full_disk_end_charged_once(
    app, project, product, faults
):
    images = [factories.make_image(project).id for _ in range(4)]
    prober, killer = Availability(product.base_url), WorkerKiller(product, random.Random(SEED))
    prober.start()
    killer.start()
    submitted, answers = [], Counter()
    quarter = -(-GENERATIONS // 4)
    batches = [list(range(GENERATIONS))[start:start + quarter] for start in range(0, GENERATIONS, quarter)]
    redis_kills, phase_seconds = 0, []
    try:
        for phase, batch in enumerate(batches):
            if phase == 1:
                product.disk_switch.touch()  # the disk is full for the second batch
            started = time.monotonic()
            ids = [submit(product, body_for(number, images), answers) for number in batch]
            submitted += [generation_id for generation_id in ids if generation_id]
            if phase in (0, 2):
                redis_kills += kill(product, "redis-server")  # while the batch's jobs are queued and running
            ended(ids, PHASE_GUARD)
            product.disk_switch.unlink(missing_ok=True)
            phase_seconds.append(round(time.monotonic() - started))
        ended(submitted, PHASE_GUARD)
    finally:
        killer.stop()
        prober.stop()
        product.disk_switch.unlink(missing_ok=True)

    figures = Figures(project, submitted)
    print(f"\nfault suite (seed {SEED}): {GENERATIONS} generations; provider faults {dict(faults.injected)}; "
          f"{killer.kills} workers killed, {redis_kills} Redis kills, the disk filled once; {figures}; "
          f"submissions {dict(answers)}; healthz {dict(prober.answers)}, {prober.refused} refused, "
          f"{prober.timeouts} timed out, {prober.unavailable:.1f} s unavailable; phases took {phase_seconds} s")
    assert figures.problems() == {}
    assert prober.refused == 0 and answers["refused"] == 0, "the site refused connections"
    assert set(answers) <= {201, 429, 503}, f"submissions answered {dict(answers)}"
    assert redis_kills == 2 and killer.kills > 0
    assert sum(faults.injected.values()) > 0


def body_for(number: int, images: list[int]) -> dict:
    """Each AI service in turn, and the built-in engine."""
    image = images[number % len(images)]
    return [
        {"model": EDIT_MODEL, "prompt": "brighten this kitchen", "referenceImages": [image]},
        {"model": "nanobanana", "prompt": "A sunny front porch with potted plants"},
        {"model": "gemini-2.5-flash-image", "prompt": "A calm bedroom at dusk"},
        {"preset": "enhance", "referenceImages": [image]},
    ][number % 4]


def submit(product, body: dict, answers: Counter) -> str | None:
    """POST one generation, trying again after a 429 or 503 (with Retry-After) or a refused connection (each counted);
    its id if created."""
    while True:
        try:
            answer = requests.post(f"{product.base_url}/api/v1/generations", headers={"X-API-Key": product.api_key},
                                   json=body, timeout=60)
        except requests.ConnectionError:
            answers["refused"] += 1
            time.sleep(POLL_EVERY)
            continue
        answers[answer.status_code] += 1
        if answer.status_code not in (429, 503):
            return answer.json()["data"]["id"] if answer.status_code == 201 else None
        if "Retry-After" not in answer.headers:
            answers[f"{answer.status_code} without Retry-After"] += 1
        time.sleep(min(float(answer.headers.get("Retry-After") or 1), 5))  # as a client told to wait does


def kill(product, marker: str) -> int:
    pids = product.child_pids(marker)
    for pid in pids:
        try:
            os.kill(pid, 9)
        except ProcessLookupError:
            return 0
    return 1 if pids else 0


def ended(generation_ids: list[str], guard: float) -> bool:
    """Wait until these generations have ended (False past the hang guard: the figures then count them stuck)."""
    deadline = time.monotonic() + guard
    while time.monotonic() < deadline:
        db.session.expire_all()
        statuses = db.session.scalars(sa.select(Generation.status).where(Generation.id.in_(generation_ids))).all()
        if all(status.is_terminal for status in statuses):
            return True
        time.sleep(0.5)
    return False


class Figures:
    """What the run left behind, from the database and storage."""

    def __init__(self, project, submitted: list[str]):
        db.session.expire_all()
        rows = db.session.scalars(sa.select(Generation).where(Generation.project_id == project.id)).all()
        workspace_id = project.workspace_id
        known = {row.id for row in rows}
        self.lost = [generation_id for generation_id in submitted if generation_id not in known]
        self.unacknowledged = [row.id for row in rows if row.id not in set(submitted)]
        self.statuses = Counter(row.status.value for row in rows)
        self.errors = Counter(row.error_code for row in rows if row.status is GenerationStatus.FAILED)
        self.stuck = [row.id for row in rows if not row.is_terminal]
        self.charged_twice, self.holding, self.without_file = [], [], []
        for row in rows:
            kinds = [kind.value for kind in db.session.scalars(
                sa.select(CreditLedger.kind).where(CreditLedger.generation_id == row.id).order_by(CreditLedger.id))]
            if kinds.count("capture") + kinds.count("refund") > 1 or kinds.count("reserve") > 1:
                self.charged_twice.append((row.id, kinds))
            elif row.is_terminal and kinds not in (["reserve", "capture"], ["reserve", "refund"]):
                self.holding.append((row.id, row.status.value, kinds))
            if row.status is GenerationStatus.SUCCEEDED and not (
                row.outputs and all(storage().exists(image.storage_key) for image in row.outputs)
            ):
                self.without_file.append(row.id)
        self.balance, self.ledger_total = credits.balance(workspace_id), credits.ledger_total(workspace_id)

    def problems(self) -> dict:
        found = {"lost": self.lost, "stuck": self.stuck, "charged twice": self.charged_twice,
                 "holding credits": self.holding, "succeeded without a file": self.without_file}
        if self.balance != self.ledger_total:
            found["balance vs ledger"] = (self.balance, self.ledger_total)
        return {name: value for name, value in found.items() if value}

    def __str__(self) -> str:
        return (f"statuses {dict(self.statuses)}, failures {dict(self.errors)}, lost {len(self.lost)}, "
                f"not acknowledged {len(self.unacknowledged)}, stuck {len(self.stuck)}, "
                f"charged twice {len(self.charged_twice)}, holding credits {len(self.holding)}, "
                f"succeeded without a file {len(self.without_file)}, "
                f"balance {self.balance} = ledger {self.ledger_total}")


class Availability(threading.Thread):
    """GET /healthz every POLL_EVERY seconds: answers by status, refusals, and seconds without a 200."""

    def __init__(self, base_url: str):
        super().__init__(daemon=True)
        self.url, self.answers = f"{base_url}/healthz", Counter()
        self.refused, self.timeouts, self.unavailable = 0, 0, 0.0
        self._halt = threading.Event()

    def run(self) -> None:
        last = time.monotonic()
        while not self._halt.wait(POLL_EVERY):
            answered = self.probe()
            now = time.monotonic()
            if not answered:
                self.unavailable += now - last
            last = now

    def probe(self) -> bool:
        try:
            status = requests.get(self.url, timeout=5).status_code
        except requests.Timeout:
            self.timeouts += 1
            return False
        except requests.ConnectionError:
            self.refused += 1
            return False
        self.answers[status] += 1
        return status == 200

    def stop(self) -> None:
        self._halt.set()
        self.join()


class WorkerKiller(threading.Thread):
    """SIGKILL a random live worker every WORKER_KILL_EVERY seconds (the supervisor restarts it)."""

    def __init__(self, product, chooser: random.Random):
        super().__init__(daemon=True)
        self.product, self.chooser, self.kills = product, chooser, 0
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.wait(WORKER_KILL_EVERY):
            pids = self.product.child_pids("jobs.worker")
            if pids:
                try:
                    os.kill(self.chooser.choice(sorted(pids)), 9)
                    self.kills += 1
                except ProcessLookupError:
                    pass

    def stop(self) -> None:
        self._halt.set()
        self.join()
