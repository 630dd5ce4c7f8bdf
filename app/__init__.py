"""Stagecraft: a self-hostable AI photo studio and image-generation gateway."""
from pathlib import Path

from flask import Flask

from app import cli, database, errors, extensions, guards, logs, models, web  # noqa: F401 (models registers the tables)
from app.config import PROJECT_ROOT, load_config, persistent_secret
from app.providers import registry


def create_app(overrides: dict | None = None) -> Flask:
    """Build the app: config, extensions, blueprints, error handlers, CLI commands."""
    app = Flask(__name__, template_folder=PROJECT_ROOT / "templates", static_folder=PROJECT_ROOT / "static")
    app.config.from_mapping(load_config())
    app.config.from_mapping(overrides or {})
    app.config["SECRET_KEY"] = app.config["SECRET_KEY"] or persistent_secret(Path(app.config["VAR_DIR"]))
    app.config["RATELIMIT_STORAGE_URI"] = limiter_storage_uri(app.config["REDIS_URL"])
    app.config.setdefault(
        "SQLALCHEMY_ENGINE_OPTIONS",
        database.engine_options(app.config["SQLALCHEMY_DATABASE_URI"], app.config["DATABASE_POOL_SIZE"]),
    )

    logs.configure_logging(app)
    extensions.db.init_app(app)
    extensions.migrate.init_app(app, extensions.db, directory=str(PROJECT_ROOT / "migrations"), render_as_batch=True)
    extensions.login_manager.init_app(app)
    extensions.csrf.init_app(app)
    extensions.limiter.init_app(app)
    extensions.htmx.init_app(app)
    extensions.redis_queues.init_app(app)
    registry.configure(app)
    web.register_blueprints(app)
    errors.register_error_handlers(app)
    guards.register(app)
    cli.register_commands(app)
    return app


def limiter_storage_uri(redis_url: str) -> str:
    """flask-limiter names a unix-socket Redis differently from redis-py."""
    if redis_url.startswith("unix://"):
        return "redis+unix://" + redis_url[len("unix://"):]
    return redis_url
