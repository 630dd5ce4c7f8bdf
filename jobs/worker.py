"""Worker entry point: `python -m jobs.worker [--burst]` (or `flask worker`).

The app is created once and the worker runs inside its app context; nothing touches the
database in this parent process, so each forked work horse opens its own connections.
When Redis goes away the worker waits for it and starts working again, instead of quitting.
"""
import argparse
import logging
import signal
import time

from redis.exceptions import RedisError
from rq import Worker

from app.analysis import compliance
from app.extensions import redis_queues

log = logging.getLogger(__name__)

REDIS_WAIT_SECONDS = 1


class ResumingWorker(Worker):
    """An RQ worker that remembers being asked to stop, so its loop ending otherwise can be told apart."""

    stop_signalled = False

    def request_stop(self, signum, frame):
        self.stop_signalled = True
        super().request_stop(signum, frame)


def run_worker(app, burst: bool = False) -> None:
    """Work the high, default and low queues, in that order of preference, until asked to stop."""
    with app.app_context():
        # The compliance models load once here, and every job this worker forks shares them.
        compliance.preload()
        lost = None
        while True:
            wait_for_redis()
            if lost is not None:
                forget(lost)
            worker = ResumingWorker(redis_queues.all_queues(), connection=redis_queues.connection)
            try:
                # with_scheduler: retries with backoff and deferred jobs are enqueued at their time.
                worker.work(burst=burst, logging_level=app.config["LOG_LEVEL"], with_scheduler=True)
            except RedisError as error:  # RQ's teardown talks to Redis too
                log.warning("worker %s: Redis failed during shutdown (%s)", worker.name, error)
            if burst or worker.stop_signalled:
                return
            # RQ quits its loop on a Redis error (or any other); this process starts a fresh loop instead.
            log.warning("worker %s stopped working; starting again once Redis answers", worker.name)
            lost = worker
            time.sleep(REDIS_WAIT_SECONDS)


def forget(worker: Worker) -> None:
    """Remove a worker loop's registration that Redis kept (or restored from its data) after the loop ended."""
    try:
        worker.register_death()
    except RedisError:
        pass


def redis_answers() -> bool:
    try:
        return bool(redis_queues.connection.ping())
    except RedisError:
        return False


def wait_for_redis() -> None:
    """Until Redis answers; SIGTERM and SIGINT end the wait (and the process) at once."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    announced = False
    while not redis_answers():
        if not announced:
            log.warning("waiting for Redis at %s", redis_queues.connection.connection_pool.connection_kwargs.get("path", "its URL"))
            announced = True
        time.sleep(REDIS_WAIT_SECONDS)


def main(argv=None) -> None:
    from app import create_app

    parser = argparse.ArgumentParser(description="Run a Stagecraft RQ worker.")
    parser.add_argument("--burst", action="store_true", help="exit when the queues are empty")
    args = parser.parse_args(argv)
    run_worker(create_app(), burst=args.burst)


if __name__ == "__main__":
    main()
