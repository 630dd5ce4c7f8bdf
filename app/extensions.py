"""Extensions, created unbound here and bound to an app in ``create_app``."""
import os
import socket
from functools import cached_property

from flask import current_app
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from htmx_flask import Htmx
from redis import Redis
from rq import Queue, Worker
from sqlalchemy.orm import DeclarativeBase

from app import database  # noqa: F401 (SQLite transaction handling, registered on import)

QUEUE_NAMES = ("high", "default", "low")


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address)
htmx = Htmx()


class _RedisState:
    def __init__(self, url: str):
        self.url = url

    @cached_property
    def connection(self) -> Redis:
        # Connects lazily, so a worker's parent process opens nothing before it forks.
        return Redis.from_url(self.url, health_check_interval=30)


class RedisQueues:
    """The Redis connection and the RQ queues of the current app."""

    def init_app(self, app):
        app.extensions["redis_queues"] = _RedisState(app.config["REDIS_URL"])

    @property
    def connection(self) -> Redis:
        return current_app.extensions["redis_queues"].connection

    def queue(self, name: str = "default") -> Queue:
        return Queue(name, connection=self.connection)

    def all_queues(self) -> list[Queue]:
        return [self.queue(name) for name in QUEUE_NAMES]

    def live_workers(self) -> list[Worker]:
        """Registered workers that still run: on this host, only those whose process exists.

        A worker killed without a chance to unregister stays in RQ's registry until its key expires
        (minutes); after a restart those would be counted beside their replacements.
        """
        here = socket.gethostname()
        return [w for w in Worker.all(connection=self.connection) if w.hostname != here or _process_exists(w.pid)]


redis_queues = RedisQueues()


def _process_exists(pid) -> bool:
    try:
        os.kill(int(pid), 0)
    except (ProcessLookupError, TypeError, ValueError):
        return False
    except PermissionError:
        return True  # someone else's process, but it exists
    return True
