"""The embedded SQLite under contention: reads never wait, writes wait their turn, overload is a 503."""
import os
import sqlite3

import pytest
import sqlalchemy as sa

from app.credits import service as credits
from app.extensions import db
from app.generations.models import Generation
from tests.factories import make_image

pytestmark = pytest.mark.skipif(bool(os.environ.get("TEST_DATABASE_URL")), reason="SQLite's own locking")


@pytest.fixture
def other_writer(config):
    """Another process's connection to the same database file, holding the write lock until the test ends."""
    connection = sqlite3.connect(config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///"), isolation_level=None)
    yield connection
    if connection.in_transaction:
        connection.execute("ROLLBACK")
    connection.close()


def hold_write_lock(connection) -> None:
    connection.execute("BEGIN IMMEDIATE")


def test_write_that_cannot_get_the_lock_in_time_is_503_with_retry_after(app, api_client, project, other_writer):
    body = {"preset": "enhance", "referenceImages": [make_image(project).id]}
    app.config["SQLITE_LOCK_WAIT"] = 0.2
    hold_write_lock(other_writer)

    busy = api_client.post("/api/v1/generations", json=body)
    assert busy.status_code == 503
    assert busy.headers["Retry-After"] == "2"
    assert busy.get_json()["error"]["code"] == "busy"
    assert db.session.scalar(sa.select(sa.func.count(Generation.id))) == 0  # nothing half-written

    other_writer.execute("COMMIT")
    assert api_client.post("/api/v1/generations", json=body).status_code == 201


def test_reads_are_answered_while_another_process_holds_the_write_lock(api_client, project, other_writer):
    make_image(project)
    hold_write_lock(other_writer)
    listed = api_client.get("/api/v1/images")
    assert listed.status_code == 200
    assert listed.get_json()["pagination"]["total"] == 1


def test_busy_page_is_the_styled_error_page(app, logged_in, project, other_writer):
    app.config["SQLITE_LOCK_WAIT"] = 0.2
    hold_write_lock(other_writer)
    page = logged_in.post(f"/projects/{project.id}/keys", data={"name": "CRM"})
    assert page.status_code == 503
    html = page.get_data(as_text=True)
    assert "pico.min.css" in html and "please try again in a moment" in html


def test_a_session_that_read_before_another_commit_can_still_write(project, other_writer):
    before = credits.balance(project.workspace_id)  # this session has read, then another connection commits:
    other_writer.execute("UPDATE workspaces SET name = 'Renamed' WHERE id = ?", (project.workspace_id,))
    credits.adjust(project.workspace_id, 5, None, "bonus")  # a stale snapshot would make this "database is locked"
    db.session.commit()
    assert credits.balance(project.workspace_id) == before + 5
