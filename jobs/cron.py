"""Periodic jobs: `python -m jobs.cron` enqueues the sweepers (generations, callbacks, photo descriptions, zips)."""
from rq.cron import CronScheduler

from app import create_app
from app.extensions import redis_queues
from jobs.analysis import sweep_analyses
from jobs.exports import sweep_exports
from jobs.sweeper import sweep_generations
from jobs.webhooks import sweep_deliveries


def main() -> None:
    app = create_app()
    with app.app_context():
        scheduler = CronScheduler(connection=redis_queues.connection, logging_level=app.config["LOG_LEVEL"])
        scheduler.register(sweep_generations, queue_name="high", interval=app.config["SWEEP_INTERVAL"], job_timeout=120)
        scheduler.register(sweep_deliveries, queue_name="low", interval=app.config["SWEEP_INTERVAL"], job_timeout=120)
        scheduler.register(sweep_analyses, queue_name="high", interval=app.config["SWEEP_INTERVAL"], job_timeout=120)
        scheduler.register(sweep_exports, queue_name="low", interval=app.config["SWEEP_INTERVAL"], job_timeout=120)
        scheduler.start()


if __name__ == "__main__":
    main()
