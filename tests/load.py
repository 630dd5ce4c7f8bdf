"""A load driver: the real web server and RQ workers, accounts made through the app's own services,
concurrent API and page clients (tests/load_clients.py), and one dict summing up what they got.

Preparing accounts, draining and summarising read and write the database in-process, so they need
an app context on the same database and Redis as the processes; the clients only need the URL.
"""
import re
import secrets
import threading
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

from app.auth import service as auth_service
from app.credits import service as credits
from app.extensions import db
from app.generations import lifecycle
from app.generations.models import Generation
from app.generations.service import create_generation
from app.generations.spec import GenerationSpec
from app.images.service import upload_image
from app.projects import service as project_service
from app.supervisor import WORKER_ENV
from tests.factories import PASSWORD, photo_bytes
from tests.load_clients import ApiSeat, Outcome, PageSeat, api_client, page_client
from tests.processes import free_port, start_web, start_worker, stop_tree, wait_until_healthy

DRAIN_QUIET = 60  # seconds without any generation finishing after which draining gives up
CREDITS = 1_000_000
PHOTOS = ("kitchen_01.jpg", "bedroom_01.jpg", "living_02.jpg", "dining_02.jpg")
# What the product promises for each kind of request; 503 (with Retry-After) means "busy, try again", which any
# request may meet when the machine is slower than the load (a loaded CI run), so every kind allows it.
EXPECTED = {
    "create unknown reference": {404, 503},
    "create enhance": {201, 503},
    "list": {200, 503},
    "login page": {200, 503},
    "log in": {302, 503},
    "listings page": {200, 503},
    "project page": {200, 503},
    "generation page": {200, 503},
}
API_KINDS = ("create unknown reference", "create enhance", "list")
LOGGED_ERROR = re.compile(r"^(\w+(?:\.\w+)*(?:Error|Exception|Timeout)\b.*)$|(WORKER TIMEOUT)", re.MULTILINE)


@dataclass
class Accounts:
    api: list[ApiSeat] = field(default_factory=list)
    pages: list[PageSeat] = field(default_factory=list)
    workspace_ids: list[int] = field(default_factory=list)


@dataclass
class Run:
    outcomes: list[Outcome]
    seconds: float


def prepare_accounts(workspaces: int = 4, clients_per_workspace: int = 4) -> Accounts:
    """Per workspace a user, a project with plenty of credits and a generation; per API client a key and a photo."""
    accounts, seats = Accounts(), []
    for number in range(workspaces):
        user = auth_service.create_user(f"load{number}-{secrets.token_hex(4)}@example.com", PASSWORD)
        project = project_service.create_project(user, f"{number} Load Street")
        credits.adjust(project.workspace_id, CREDITS, user, "Load test")
        seats.append([_api_seat(project, n) for n in range(clients_per_workspace)])
        spec = GenerationSpec(preset="enhance", references=[seats[-1][0].image_id])
        generation = create_generation(project, spec, user=user)
        db.session.commit()
        accounts.pages.append(PageSeat(user.email, project.id, generation.id))
        accounts.workspace_ids.append(project.workspace_id)
    # Interleaved, so that the first n clients are spread over the workspaces.
    accounts.api = [seat for row in zip(*seats) for seat in row]
    return accounts


def _api_seat(project, number: int) -> ApiSeat:
    _, key = auth_service.create_api_key(project, f"load client {number}", rate_limit=auth_service.MAX_KEY_RATE_LIMIT)
    name = PHOTOS[number % len(PHOTOS)]
    image = upload_image(project, photo_bytes(name), name)
    db.session.commit()
    return ApiSeat(key, image.id)


@contextmanager
def running_stagecraft(config: dict, workers: int = 2):
    """gunicorn as `flask up` runs it and real RQ workers; yields the base URL and stops them all after.

    Their output goes to gunicorn.log and workers.log in the config's VAR_DIR.
    """
    log_dir, port = Path(config["VAR_DIR"]), free_port()
    with open(log_dir / "gunicorn.log", "ab") as web_log, open(log_dir / "workers.log", "ab") as worker_log:
        web = start_web(config, port, log_file=web_log)
        processes = [web] + [start_worker(config, log_file=worker_log, **WORKER_ENV) for _ in range(workers)]
        try:
            wait_until_healthy(f"http://127.0.0.1:{port}", web, workers, log=log_dir / "gunicorn.log")
            yield f"http://127.0.0.1:{port}"
        finally:
            for process in processes:
                stop_tree(process)


def run_load(base_url: str, accounts: Accounts, api_clients: int, page_clients: int = 0,
             requests_per_client: int | None = None, seconds: float | None = None) -> Run:
    """API clients for a number of requests each (or a duration) at once, with page clients alongside until they end."""
    deadline = time.monotonic() + seconds if seconds else None

    def api_keeps_going(done: int) -> bool:
        return time.monotonic() < deadline if deadline else done < requests_per_client

    api_done = threading.Event()
    api = [_client(api_client, base_url, accounts.api[n], api_keeps_going) for n in range(api_clients)]
    pages = [
        _client(page_client, base_url, accounts.pages[n % len(accounts.pages)], lambda _: not api_done.is_set())
        for n in range(page_clients)
    ]
    start = time.monotonic()
    for thread, _ in api + pages:
        thread.start()
    for thread, _ in api:
        thread.join()
    elapsed = time.monotonic() - start
    api_done.set()
    for thread, _ in pages:
        thread.join()
    return Run([outcome for _, outcomes in api + pages for outcome in outcomes], elapsed)


def _client(target, base_url: str, seat, keep_going) -> tuple[threading.Thread, list[Outcome]]:
    outcomes: list[Outcome] = []
    return threading.Thread(target=target, args=(base_url, seat, keep_going, outcomes), daemon=True), outcomes


def drain(quiet: float = DRAIN_QUIET) -> bool:
    """Wait until no generation is queued or processing; give up once none has finished for `quiet` seconds.

    True when all are finished. The deadline moves on with every finished generation, so a slow
    machine only waits longer, while generations that no longer move are reported, not waited for.
    """
    active, deadline = active_generations(), time.monotonic() + quiet
    while active and time.monotonic() < deadline:
        time.sleep(0.5)
        now_active = active_generations()
        if now_active < active:
            deadline = time.monotonic() + quiet
        active = now_active
    return active == 0


def active_generations() -> int:
    count = db.session.scalar(sa.select(sa.func.count(Generation.id)).where(Generation.status.in_(lifecycle.ACTIVE)))
    db.session.rollback()
    return count


def generation_outcomes(ids: list[str]) -> dict:
    """How many of these generations ended in each status; unfinished ones count under their current status."""
    rows = db.session.scalars(sa.select(Generation.status).where(Generation.id.in_(ids))).all()
    db.session.rollback()
    counts = Counter(status.value for status in rows)
    return {"accepted": len(ids), **dict(sorted(counts.items())), "missing": len(ids) - len(rows)}


def summarize(run: Run, log_dir: Path | None = None) -> dict:
    """A run's figures: statuses, 503s, unanswered and unexpected answers, API latency, where generations ended.

    Call it after drain(): generations are counted as they are then.
    """
    answered = [o for o in run.outcomes if o.status is not None]
    statuses = Counter(o.status for o in answered)
    accepted = [o.generation_id for o in run.outcomes if o.generation_id]
    summary = {
        "requests": len(run.outcomes),
        "requests_per_second": round(len(run.outcomes) / run.seconds, 1),
        "by_status": dict(sorted(statuses.items())),
        "5xx": sum(count for status, count in statuses.items() if status >= 500),
        "503": statuses[503],
        "503_without_retry_after": sum(1 for o in answered if o.status == 503 and not o.retry_after),
        "unanswered": len(run.outcomes) - len(answered),
        "unanswered_by_error": dict(Counter(o.error for o in run.outcomes if o.status is None)),
        "unexpected": dict(Counter(f"{o.kind}: {o.status or o.error}" for o in run.outcomes
                                   if o.status not in EXPECTED[o.kind])),
        "api_latency_ms": percentiles([o.seconds for o in answered if o.kind in API_KINDS]),
        "generations": generation_outcomes(accepted),
        "queued_or_processing_in_database": active_generations(),
    }
    if log_dir:
        summary["logged_errors"] = logged_errors(log_dir)
    return summary


def percentiles(seconds: list[float]) -> dict:
    """p50, p95 and max in milliseconds (nearest rank); empty when there is nothing to rank."""
    if not seconds:
        return {}
    ranked = sorted(seconds)

    def rank(p: float) -> int:
        return round(1000 * ranked[min(len(ranked) - 1, int(p * len(ranked)))])

    return {"p50": rank(0.50), "p95": rank(0.95), "max": round(1000 * ranked[-1])}


def logged_errors(log_dir: Path) -> dict:
    """The distinct exceptions (and gunicorn worker timeouts) the processes logged, with counts."""
    counts = Counter()
    for name in ("gunicorn.log", "workers.log"):
        path = log_dir / name
        text = path.read_text(errors="replace") if path.exists() else ""
        for exception, timeout in LOGGED_ERROR.findall(text):
            counts[f"{name}: {(exception or timeout)[:160]}"] += 1
    return dict(counts.most_common())
