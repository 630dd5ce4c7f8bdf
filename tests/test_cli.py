"""Operator commands for scripted setups."""
import subprocess
import sys

from app.auth.models import ApiKey, User
from app.extensions import db, redis_queues
from app.projects.models import Project
from tests.processes import HANG_GUARD, ROOT, process_env


def test_scripted_setup_creates_user_project_and_working_key(app, client):
    runner = app.test_cli_runner()
    created = runner.invoke(args=["create-user", "--email", "ops@example.com", "--password", "long enough pw"])
    assert created.exit_code == 0, created.output
    project_id = runner.invoke(args=["create-project", "--user", "ops@example.com", "--name", "API"]).output.strip()
    assert db.session.get(Project, int(project_id)).name == "API"
    key = runner.invoke(args=["create-api-key", "--project", project_id]).output.strip()
    assert key.startswith("sc_")
    assert db.session.scalar(db.select(ApiKey.key_hash)) != key
    assert client.get("/api/v1/images/missing", headers={"Authorization": f"Bearer {key}"}).status_code == 404


def test_create_admin_generates_and_prints_password_once(app):
    result = app.test_cli_runner().invoke(args=["create-admin", "--email", "boss@example.com"])
    assert result.exit_code == 0
    assert "Password (shown once):" in result.output
    assert db.session.scalar(db.select(User.role).where(User.email == "boss@example.com")) == "admin"


def test_cli_errors_are_messages_not_tracebacks(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["create-api-key", "--project", "999"])
    assert result.exit_code != 0
    assert "No project with id 999" in result.output
    result = runner.invoke(args=["create-user", "--email", "bad", "--password", "long enough pw"])
    assert "valid email" in result.output


def test_flask_worker_starts_the_worker_process_which_creates_its_own_app(app, config):
    """The CLI runs `python -m jobs.worker` instead of importing it (that import tied create_app to the worker)."""
    job = redis_queues.queue("high").enqueue("jobs.sweeper.sweep_generations")
    finished = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--burst"], cwd=ROOT, env=process_env(config),
        capture_output=True, text=True, timeout=HANG_GUARD,
    )
    assert finished.returncode == 0, finished.stderr
    job.refresh()
    assert job.is_finished, job.get_status()
