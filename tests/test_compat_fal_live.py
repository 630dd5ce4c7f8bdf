"""The fal-style queue while work really runs: cancel races and the SSE status stream, with a job held at the gate."""
import json

import pytest

from app.compat.fal import routes
from app.credits import service as credits
from app.extensions import db
from app.generations.models import Generation, GenerationStatus
from tests import factories
from tests.processes import start_gate_worker, stop_tree
from tests.test_compat_fal import BASE, FalCaller


@pytest.fixture
def fal(client, project):
    return FalCaller(client, factories.make_api_key(project))


@pytest.fixture
def gate_worker(config, gate):
    """A real forking worker that knows the gate provider."""
    process = start_gate_worker(config)
    yield process
    stop_tree(process)


def events_of(chunks) -> list:
    """The data events of an SSE body (keep-alive comments left out), decoded."""
    text = "".join(chunk.decode() if isinstance(chunk, bytes) else chunk for chunk in chunks)
    return [json.loads(block[len("data: "):]) for block in text.split("\n\n") if block.startswith("data: ")]


def read_stream(fal, url: str) -> list:
    """The whole stream's events (it ends after COMPLETED); the response is held while it is read."""
    response = fal.get(url)
    assert response.status_code == 200
    events = events_of(response.response)
    return events


def test_cancel_of_a_running_request_is_202_and_it_ends_canceled_at_its_next_step(fal, project, gate, gate_worker):
    balance = credits.balance(project.workspace_id)
    generation = gate.queue_generation(project)
    gate.wait_until_entered()
    request_url = f"{BASE}/requests/{generation.id}"
    running = fal.get(f"{request_url}/status?logs=1")
    assert running.status_code == 202
    assert running.get_json()["status"] == "IN_PROGRESS"
    assert running.get_json()["logs"][0]["message"] == "Waiting at the gate"

    response = fal.put(f"{request_url}/cancel")
    assert (response.status_code, response.get_json()) == (202, {"status": "CANCELLATION_REQUESTED"})
    gate.open()
    # The stream ends once the request is COMPLETED, so reading it to the end waits for the worker.
    final = read_stream(fal, f"{request_url}/status/stream")[-1]
    assert (final["status"], final["error_type"]) == ("COMPLETED", "canceled")

    db.session.expire_all()
    assert db.session.get(Generation, generation.id).status is GenerationStatus.CANCELED
    assert credits.balance(project.workspace_id) == balance
    late = fal.put(f"{request_url}/cancel")
    assert (late.status_code, late.get_json()["status"]) == (400, "ALREADY_COMPLETED")


def test_cancel_racing_the_finish_settles_once(fal, project, gate, gate_worker):
    generation = gate.queue_generation(project)
    gate.wait_until_entered()
    gate.open()  # the run goes on to finish while the cancel arrives
    request_url = f"{BASE}/requests/{generation.id}"
    response = fal.put(f"{request_url}/cancel")
    final = read_stream(fal, f"{request_url}/status/stream")[-1]
    if response.status_code == 202:  # the cancel came first: it ends canceled
        assert final.get("error_type") == "canceled"
    else:  # the finish came first: the result stands
        assert response.get_json()["status"] == "ALREADY_COMPLETED" and "error" not in final
    db.session.expire_all()
    settled = db.session.get(Generation, generation.id)
    assert settled.status in (GenerationStatus.CANCELED, GenerationStatus.SUCCEEDED)


def test_stream_sends_each_change_with_keep_alives_between_and_closes_after_completed(
    fal, project, gate, gate_worker, monkeypatch
):
    monkeypatch.setattr(routes, "KEEPALIVE_SECONDS", 0.05)
    generation = gate.queue_generation(project)
    gate.wait_until_entered()
    response = fal.get(f"{BASE}/requests/{generation.id}/status/stream", buffered=False)
    assert response.mimetype == "text/event-stream"
    chunks = iter(response.response)
    first = next(chunks).decode()
    assert first.startswith("data: ") and json.loads(first[len("data: "):])["status"] == "IN_PROGRESS"
    assert next(chunks).decode() == ": keep-alive\n\n"  # nothing changed while the job waits at the gate

    gate.open()
    rest = events_of(chunks)
    assert rest[-1]["status"] == "COMPLETED" and "error" not in rest[-1]
    assert all(event["status"] in ("IN_PROGRESS", "COMPLETED") for event in rest)
    assert len({json.dumps(event, sort_keys=True) for event in rest}) == len(rest)  # one event per change
