"""Worker entry point: `python -m jobs.worker [--burst]` (or `flask worker`).

The app is created once and the worker runs inside its app context; nothing touches the
database in this parent process, so each forked work horse opens its own connections.
"""
import argparse

from rq import Worker

from app.analysis import compliance
from app.extensions import redis_queues


def run_worker(app, burst: bool = False) -> None:
    """Work the high, default and low queues, in that order of preference."""
    with app.app_context():
        # The compliance models load once here, and every job this worker forks shares them.
        compliance.preload()
        worker = Worker(redis_queues.all_queues(), connection=redis_queues.connection)
        # with_scheduler: retries with backoff and deferred jobs are enqueued at their time.
        worker.work(burst=burst, logging_level=app.config["LOG_LEVEL"], with_scheduler=True)


def main(argv=None) -> None:
    from app import create_app

    parser = argparse.ArgumentParser(description="Run a Stagecraft RQ worker.")
    parser.add_argument("--burst", action="store_true", help="exit when the queues are empty")
    args = parser.parse_args(argv)
    run_worker(create_app(), burst=args.burst)


if __name__ == "__main__":
    main()
