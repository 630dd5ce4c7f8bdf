"""Every request commits at most once: the view's work, its API key's last use and its idempotency record together.

A second commit in one request is a window in which the process can die with half of the request
durable (an Idempotency-Key left "in progress" for a day, a key's use noted for work never done).
The test drives every route of the URL map (tests/route_walk.py) and counts the COMMITs that end a
transaction which wrote something, per request.
"""
from contextlib import contextmanager

import sqlalchemy as sa

from app.auth.models import ApiKey
from app.credits import service as credits
from app.extensions import db
from app.generations.models import Generation
from app.idempotency.models import IdempotencyRecord
from tests import factories
from tests.route_walk import ROUTES, own_rows, request_line, walk_order

# Streams and workflows that must make their steps durable one by one (ARCHITECTURE.md, "commit once").
MAY_COMMIT_BETWEEN_STEPS = {
    # A live-URL miss commits its generation so a worker can run it, then caches the result it waited for.
    "live.image": "app/live/workflow.py commits a generation before a worker can run it",
}


@contextmanager
def counted_commits():
    """A list that collects one entry per COMMIT that ended a transaction with writes in it."""
    commits = []

    def on_commit(connection):
        driver = connection.connection.driver_connection
        if getattr(driver, "in_transaction", True):  # SQLite: a session that only read has no transaction to end
            commits.append(connection)

    sa.event.listen(db.engine, "commit", on_commit)
    try:
        yield commits
    finally:
        sa.event.remove(db.engine, "commit", on_commit)


def test_no_request_commits_more_than_once(app, logged_in, admin_client, user, project, api_client):
    app.config["PROCESS_IMAGE_WAIT"] = 0  # answer 202 at once instead of waiting for a worker this test does not run
    values = own_rows(app, user, project)
    counts, committed = {}, 0
    for number, route in enumerate(walk_order(ROUTES)):
        headers = {"Idempotency-Key": f"walk-{number}"}  # honoured where the route is idempotent
        _make_key_use_due()
        with counted_commits() as commits:
            response = request_line(route, values, logged_in, admin_client, api_client.key, headers)
            response.close()  # a stream's body is not read: its steps are the stream's, not the request's
        assert response.status_code < 500, (route, response.get_data(as_text=True)[:300])
        counts[f"{route.method} {route.path}"] = len(commits)
        committed += bool(commits) and route.endpoint not in MAY_COMMIT_BETWEEN_STEPS
    twice = {line: count for line, count in counts.items() if count > 1 and line.split()[1] not in _exempt_paths()}
    assert not twice, f"requests that committed more than once: {twice}"
    assert committed > 40, "the walk should reach the writes of most routes; did the rows it uses go missing?"


def _make_key_use_due() -> None:
    """Forget when the keys were last used, so every API request has its use to note (the worst case)."""
    db.session.execute(sa.update(ApiKey).values(last_used_at=None))
    db.session.commit()


def _exempt_paths() -> set[str]:
    return {route.path for route in ROUTES if route.endpoint in MAY_COMMIT_BETWEEN_STEPS}


def test_an_api_create_with_an_idempotency_key_commits_once(api_client, project):
    image = factories.make_image(project)
    body = {"preset": "enhance", "referenceImages": [image.id]}
    with counted_commits() as commits:
        first = api_client.post("/api/v1/generations", json=body, headers={"Idempotency-Key": "order-1"})
    assert first.status_code == 201
    assert len(commits) == 1
    assert db.session.scalar(sa.select(ApiKey.last_used_at)) is not None  # the key's use rode in that commit
    with counted_commits() as commits:
        again = api_client.post("/api/v1/generations", json=body, headers={"Idempotency-Key": "order-1"})
    assert again.get_json() == first.get_json() and again.headers["Idempotent-Replayed"] == "true"
    assert len(commits) <= 1  # at most the key's last-use note


def test_a_refused_create_leaves_its_idempotency_key_free(api_client, project):
    body = {"preset": "enhance", "referenceImages": ["no-such-photo"]}
    refused = api_client.post("/api/v1/generations", json=body, headers={"Idempotency-Key": "order-2"})
    assert refused.status_code == 404
    assert db.session.scalar(sa.select(sa.func.count(IdempotencyRecord.id))) == 0
    body["referenceImages"] = [factories.make_image(project).id]
    assert api_client.post("/api/v1/generations", json=body, headers={"Idempotency-Key": "order-2"}).status_code == 201


def test_a_duplicate_that_loses_the_race_gets_the_first_answer_and_leaves_no_work(api_client, project):
    image = factories.make_image(project)
    body, headers = {"preset": "enhance", "referenceImages": [image.id]}, {"Idempotency-Key": "order-3"}
    first = api_client.post("/api/v1/generations", json=body, headers=headers).get_json()
    row = _take_back(sa.select(IdempotencyRecord).where(IdempotencyRecord.key == "order-3"))

    def first_commits_right_after_the_lookup(_connection, _cursor, statement, *_):
        # The duplicate found no record; now the first request's commit lands, from another connection.
        if "FROM idempotency_records" in statement and row:
            with db.engine.begin() as other:
                other.execute(sa.insert(IdempotencyRecord).values(row.pop()))

    sa.event.listen(db.engine, "after_cursor_execute", first_commits_right_after_the_lookup)
    try:
        duplicate = api_client.post("/api/v1/generations", json=body, headers=headers)
    finally:
        sa.event.remove(db.engine, "after_cursor_execute", first_commits_right_after_the_lookup)
    assert duplicate.status_code == 201 and duplicate.headers["Idempotent-Replayed"] == "true"
    assert duplicate.get_json() == first
    assert db.session.scalar(sa.select(sa.func.count(Generation.id))) == 1
    assert credits.balance(project.workspace_id) == 49  # charged once


def _take_back(query) -> list[dict]:
    """Delete the record the query finds and return its columns, to be written again later."""
    record = db.session.scalar(query)
    columns = {column.key: getattr(record, column.key) for column in IdempotencyRecord.__table__.columns}
    db.session.delete(record)
    db.session.commit()
    return [columns]
