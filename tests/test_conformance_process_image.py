"""process-image (AI Studio's photo API) as the README's section and /api/docs describe it, examples verbatim.

Spec points checked: the health check; preparing a record (201, status pending); POST /api/process-image
answering 200 {success, url, resultUrl, imageGenerationId}, 200 "Already processed", 500 {success: false,
error: "Processing failed", details}, 400 without imageId, 404 for an unknown id; record statuses pending,
processing, completed, failed. A process call answers within those shapes however long the edit takes: a
slow edit holds the request (whitespace keeps the connection alive) and then answers as above.
"""
import base64
import io
import json
import threading
import time

import pytest
import sqlalchemy as sa
from PIL import Image as PILImage

from app.apidocs.spec import build_spec
from app.extensions import db
from app.generations.models import Generation
from tests.conformance import connect_all
from tests.factories import make_image
from tests.gate import GateProvider
from tests.processes import HANG_GUARD
from tests.test_openapi import matches_schema
from tests.upstreams.fal import EDIT_MODEL

PROCESS = "/api/process-image"
STATUSES = {"pending", "processing", "completed", "failed"}


@pytest.fixture
def connected(app, fal_queue, nanobanana_upstream, gemini_upstream):
    """AI connected, the project's engine left as it is: the edit succeeds wherever the routing rule sends it."""
    connect_all(app, fal_queue, nanobanana_upstream, gemini_upstream)


@pytest.fixture
def fal_connected(app, project, fal_queue, nanobanana_upstream, gemini_upstream):
    """The AI services connected and the project's edits sent to fal (Nano Banana Pro edit)."""
    connect_all(app, fal_queue, nanobanana_upstream, gemini_upstream)
    project.default_provider = "fal"
    db.session.commit()


def prepare(api_client, project) -> dict:
    """The README's prepare example: {"imageId": "<imageId>", "prompt": "brighten the room and sharpen"}."""
    image = make_image(project)
    response = api_client.post("/api/image-generations",
                               json={"imageId": image.id, "prompt": "brighten the room and sharpen"})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["data"]


def answered_while_worker_runs(worker, send):
    """Send on another thread, run the worker on this one (it needs the main thread) until answered."""
    answer = {}
    thread = threading.Thread(target=lambda: answer.setdefault("response", send()))
    thread.start()
    deadline = time.monotonic() + HANG_GUARD
    while thread.is_alive():
        assert time.monotonic() < deadline, "the request was not answered"
        worker()
        thread.join(0.05)
    return answer["response"]


def test_health_check_is_ok(client):
    assert client.get(PROCESS).get_json()["status"] == "ok"


def test_prepare_example_answers_201_pending_with_the_original(api_client, project):
    record = prepare(api_client, project)
    assert record["status"] == "pending" and record["originalImageUrl"].startswith("http://localhost/files/")
    assert record["resultImageUrl"] is None


def test_process_answers_the_result_url_then_already_processed(api_client, project, worker, client, connected):
    record = prepare(api_client, project)
    response = answered_while_worker_runs(worker, lambda: api_client.post(PROCESS, json={"imageId": record["id"]}))
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert body["success"] is True and body["url"] == body["resultUrl"] and body["imageGenerationId"] == record["id"]
    assert client.get(body["url"]).status_code == 200
    again = api_client.post(PROCESS, json={"imageId": record["id"]}).get_json()
    # Links are signed anew on each answer (their expiry moves with the clock): the same file is what counts.
    assert (again["message"], again["url"].split("?")[0]) == ("Already processed", body["url"].split("?")[0])
    status = api_client.get(f"/api/image-generations/{record['id']}").get_json()["data"]
    assert status["status"] == "completed" and status["status"] in STATUSES


def test_an_edit_slower_than_the_wait_is_held_and_answered_with_its_url(app, api_client, project, worker, gate, connected):
    app.config["PROCESS_IMAGE_WAIT"] = 0  # "slower than the wait" without waiting: the gate holds the job
    project.default_provider = GateProvider.name
    db.session.commit()
    record = prepare(api_client, project)
    response = api_client.post(PROCESS, json={"imageId": record["id"]}, buffered=False)
    assert response.status_code == 200 and response.mimetype == "application/json"
    chunks = response.iter_encoded()
    assert next(chunks).strip() == b""  # the connection is kept alive while the edit runs
    assert api_client.get(f"/api/image-generations/{record['id']}").get_json()["data"]["status"] == "processing"
    gate.open()
    worker()
    body = json.loads(b"".join(chunks))
    assert body["success"] is True and body["url"] == body["resultUrl"] and body["imageGenerationId"] == record["id"]
    assert "status" not in body  # never the "processing" answer the spec does not have
    assert matches_schema(build_spec(app), "ProcessImageAnswer", body) == []


def test_a_failed_edit_is_500_processing_failed_with_details(api_client, project, worker, fal_connected, fal_queue):
    fal_queue.script(error="content_policy_violation")
    record = prepare(api_client, project)
    response = answered_while_worker_runs(worker, lambda: api_client.post(PROCESS, json={"imageId": record["id"]}))
    assert response.status_code == 500
    body = response.get_json()
    assert (body["success"], body["error"]) == (False, "Processing failed") and body["details"]
    assert api_client.get(f"/api/image-generations/{record['id']}").get_json()["data"]["status"] == "failed"


def test_a_held_edit_that_fails_says_processing_failed_in_the_body(app, api_client, project, worker, fal_connected,
                                                                    fal_queue):
    app.config["PROCESS_IMAGE_WAIT"] = 0
    fal_queue.script(error="content_policy_violation")
    record = prepare(api_client, project)
    response = api_client.post(PROCESS, json={"imageId": record["id"]}, buffered=False)
    chunks = response.iter_encoded()
    assert next(chunks).strip() == b""
    worker()
    body = json.loads(b"".join(chunks))
    assert (body["success"], body["error"]) == (False, "Processing failed") and body["details"]


def test_without_image_id_is_400_and_an_unknown_id_404(api_client):
    missing = api_client.post(PROCESS, json={})
    assert missing.status_code == 400 and missing.get_json()["success"] is False and "imageId" in missing.get_json()["error"]
    assert api_client.post(PROCESS, json={"imageId": "no-such-record"}).status_code == 404


def test_the_edit_goes_to_nano_banana_pro_when_an_ai_service_is_connected(app, api_client, project, worker, fal_queue,
                                                                          nanobanana_upstream, gemini_upstream):
    connect_all(app, fal_queue, nanobanana_upstream, gemini_upstream)  # the project keeps its default engine
    record = prepare(api_client, project)  # "brighten …": a prompt the built-in engine would also take
    response = answered_while_worker_runs(worker, lambda: api_client.post(PROCESS, json={"imageId": record["id"]}))
    assert response.status_code == 200
    assert [submission["path"] for submission in fal_queue.submissions] == ["/" + EDIT_MODEL]


def white_mask() -> str:
    """A mask that marks the whole photo to change, as a PNG data URL."""
    buffer = io.BytesIO()
    PILImage.new("L", (64, 48), 255).save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def test_a_repeated_inpaint_key_points_at_the_one_edit_it_started(app, api_client, project, worker, connected):
    app.config["PROCESS_IMAGE_WAIT"] = 0
    body = {"imageId": make_image(project).id, "prompt": "brighten the room", "mask": white_mask()}
    headers = {"Idempotency-Key": "inpaint-7"}
    response = api_client.post("/api/inpaint-image", json=body, headers=headers, buffered=False)
    chunks = response.iter_encoded()
    assert next(chunks).strip() == b""
    again = api_client.post("/api/inpaint-image", json=body, headers=headers)
    assert (again.status_code, again.headers["Idempotent-Replayed"]) == (200, "true")
    assert again.get_json()["status"] == "processing"
    worker()
    first = json.loads(b"".join(chunks))
    assert first["success"] is True and first["url"]
    followed = api_client.get(again.get_json()["statusUrl"]).get_json()["data"]
    assert followed["status"] == "completed" and followed["id"] == first["imageGenerationId"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Generation)) == 1
