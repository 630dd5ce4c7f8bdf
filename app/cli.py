"""Operator commands: `flask up`, `flask create-admin`, `flask create-api-key --project 1`, …"""
import os
import secrets
import subprocess
import threading

import click
import sqlalchemy as sa
from flask import current_app
from flask_migrate import upgrade

from app.auth import service as auth_service
from app.auth.models import User
from app.cli_credits import credits_group
from app.cli_routes import routes_table_command
from app.config import PROJECT_ROOT
from app.errors import ApiError
from app.extensions import db
from app.projects import service as project_service
from app.projects.models import Project


def register_commands(app) -> None:
    commands = (up, create_admin, create_user, create_project, create_api_key, worker, sweep, mcp_server, credits_group,
                routes_table_command)
    for command in commands:
        app.cli.add_command(command)


def _fail(error: ApiError):
    raise click.ClickException(error.message)


def _new_user(email: str, password: str | None, role: str) -> None:
    generated = None if password else secrets.token_urlsafe(12)
    try:
        user = auth_service.create_user(email, password or generated, role=role)
    except ApiError as error:
        _fail(error)
    db.session.commit()
    click.echo(f"Created {role} {user.email} (id {user.id})")
    if generated:
        click.echo(f"Password (shown once): {generated}")


@click.command("create-admin")
@click.option("--email", required=True)
@click.option("--password", help="generated and printed once when omitted")
def create_admin(email, password):
    """Create an admin account."""
    _new_user(email, password, "admin")


@click.command("create-user")
@click.option("--email", required=True)
@click.option("--password", help="generated and printed once when omitted")
@click.option("--role", type=click.Choice(["agent", "admin"]), default="agent")
def create_user(email, password, role):
    """Create a user with a personal workspace."""
    _new_user(email, password, role)


@click.command("create-project")
@click.option("--user", "email", required=True, help="email of the owner")
@click.option("--name", required=True)
@click.option("--kind", type=click.Choice(["listing", "api"]), default="listing")
def create_project(email, name, kind):
    """Create a project in the user's first workspace and print its id."""
    user = db.session.scalar(sa.select(User).where(User.email == auth_service.normalize_email(email)))
    if user is None:
        raise click.ClickException(f"No user with email {email}")
    try:
        project = project_service.create_project(user, name, kind)
    except ApiError as error:
        _fail(error)
    db.session.commit()
    click.echo(project.id)


@click.command("create-api-key")
@click.option("--project", "project_id", type=int, required=True)
@click.option("--name", default="CLI key")
@click.option("--expires-in-days", type=int, help="no expiry when omitted")
@click.option("--rate-limit", type=int, help="requests per hour (default API_RATE_LIMIT)")
def create_api_key(project_id, name, expires_in_days, rate_limit):
    """Create an API key for a project and print it (it is shown only this once)."""
    project = db.session.get(Project, project_id)
    if project is None:
        raise click.ClickException(f"No project with id {project_id}")
    try:
        _, plaintext = auth_service.create_api_key(project, name, expires_in_days=expires_in_days, rate_limit=rate_limit)
    except ApiError as error:
        _fail(error)
    db.session.commit()
    click.echo(plaintext)


@click.command("worker")
@click.option("--burst", is_flag=True, help="exit when the queues are empty")
def worker(burst):
    """Run an RQ worker on the high, default and low queues (`python -m jobs.worker`, as `flask up` does)."""
    from app.supervisor import WORKER_ENV, worker_command

    # The worker creates its own app; importing it here would tie the app factory to the worker's.
    raise SystemExit(subprocess.call(worker_command(burst), cwd=PROJECT_ROOT, env={**os.environ, **WORKER_ENV}))


@click.command("sweep")
def sweep():
    """Fail abandoned generations and re-enqueue lost ones, once."""
    from jobs.sweeper import sweep_generations

    click.echo(sweep_generations())


@click.command("mcp-server")
@click.option("--host", help="default HOST")
@click.option("--port", type=int, help="default MCP_PORT")
def mcp_server(host, port):
    """Run the MCP server for AI assistants (Streamable HTTP at /mcp, API key auth) until Ctrl-C."""
    from app.assistants.routes import serve

    config = current_app.config
    serve(current_app._get_current_object(), host or config["HOST"], port or config["MCP_PORT"])


@click.command("up")
def up():
    """Migrate, make sure an admin exists, and run Redis, the web server and the workers until Ctrl-C."""
    from app.supervisor import run_everything

    upgrade()
    created = auth_service.ensure_admin(current_app.config["ADMIN_EMAIL"], current_app.config["ADMIN_PASSWORD"])
    db.session.commit()
    if created:
        user, generated = created
        click.echo(f"Admin account: {user.email}")
        if generated:
            click.echo(f"Admin password (shown once): {generated}")
    db.session.remove()
    db.engine.dispose()
    threading.Thread(target=render_samples, args=(current_app._get_current_object(),), daemon=True).start()
    run_everything(current_app.config)


def render_samples(app) -> None:
    """Render the presets' before/after samples and the apply bar's previews beside the start-up, so no page waits."""
    from app.generations.samples import catalogue

    with app.app_context():
        try:
            catalogue()
        except Exception as error:  # the pages render any missing sample themselves; a preview falls back to a swatch
            click.echo(f"The preset samples could not be rendered now: {error}", err=True)
