"""Sixteen API clients and two browsers at once, next to one API client alone, in the same run.

Both phases run against the same real processes: gunicorn as `flask up` starts it (gevent workers),
two RQ workers, a SQLite file and the embedded redis-server, all in a temporary directory. Each
API client repeats the mix create-with-an-unknown-image (404), enhance (201), list (200); the page
clients log in and browse. BENCH_SECONDS (default 60) is the length of each phase.
"""
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask_migrate import upgrade  # noqa: E402

from app import create_app  # noqa: E402
from app.embedded import start_redis  # noqa: E402
from bench.common import bench_config  # noqa: E402
from tests import load  # noqa: E402

SECONDS = int(os.environ.get("BENCH_SECONDS", "60"))
API_CLIENTS, PAGE_CLIENTS, WORKERS = 16, 2, 2


def measure(config: dict) -> tuple[dict, dict, dict]:
    """The baseline (one API client alone) and the loaded figures, and the errors the processes logged."""
    accounts = load.prepare_accounts(workspaces=4, clients_per_workspace=API_CLIENTS // 4)
    with load.running_stagecraft(config, workers=WORKERS) as base_url:
        baseline = phase(base_url, accounts, api_clients=1)
        loaded = phase(base_url, accounts, api_clients=API_CLIENTS, page_clients=PAGE_CLIENTS)
    return baseline, loaded, load.logged_errors(Path(config["VAR_DIR"]))


def phase(base_url: str, accounts: load.Accounts, **clients) -> dict:
    """Run the clients for SECONDS, let the workers drain what they accepted, and sum it up."""
    run = load.run_load(base_url, accounts, seconds=SECONDS, **clients)
    load.drain()
    return load.summarize(run)


def unfinished(summary: dict) -> int:
    return sum(summary["generations"].get(status, 0) for status in ("queued", "processing", "missing"))


def ended(summary: dict) -> str:
    return f"{summary['generations'].get('succeeded', 0)} / {summary['generations'].get('failed', 0)}"


ROWS = [
    ("requests", lambda s: s["requests"]),
    ("requests/s", lambda s: s["requests_per_second"]),
    ("API latency p50 (ms)", lambda s: s["api_latency_ms"].get("p50", "-")),
    ("API latency p95 (ms)", lambda s: s["api_latency_ms"].get("p95", "-")),
    ("API latency max (ms)", lambda s: s["api_latency_ms"].get("max", "-")),
    ("5xx", lambda s: s["5xx"]),
    ("503 / of them without Retry-After", lambda s: f"{s['503']} / {s['503_without_retry_after']}"),
    ("unanswered within 20 s", lambda s: s["unanswered"]),
    ("generations accepted", lambda s: s["generations"]["accepted"]),
    ("  succeeded / failed", ended),
    ("  unfinished after drain", unfinished),
    ("any generation left queued/processing", lambda s: s["queued_or_processing_in_database"]),
]


def print_figures(baseline: dict, loaded: dict, errors: dict) -> None:
    print(f"{API_CLIENTS} API + {PAGE_CLIENTS} page clients vs 1 API client alone; "
          f"gunicorn + {WORKERS} RQ workers on SQLite, {SECONDS} s each")
    print(f"{'':<40}{'1 client':>12}{f'{API_CLIENTS} clients':>14}")
    for label, figure in ROWS:
        print(f"{label:<40}{figure(baseline)!s:>12}{figure(loaded)!s:>14}")
    print("status counts:", f"baseline {baseline['by_status']}", f"loaded {loaded['by_status']}", sep="\n  ")
    print_counts("unexpected answers under load:", loaded["unexpected"])
    print_counts("errors in the server and worker logs:", errors)


def print_counts(title: str, counts: dict) -> None:
    if counts:
        print(title, *(f"{count:5}  {what}" for what, count in counts.items()), sep="\n  ")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        redis_process = start_redis(tmp / "redis", tmp / "redis" / "redis.sock")
        config = bench_config(tmp)
        try:
            with create_app(config).app_context():
                upgrade()
                figures = measure(config)
        finally:
            if redis_process:
                redis_process.terminate()
    print_figures(*figures)


if __name__ == "__main__":
    main()
