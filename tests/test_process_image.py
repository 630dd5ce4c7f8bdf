"""The process-image surface (AI Studio): records prepared now, processed on request by a real worker."""
import base64
import io
import json
import threading
import time

import numpy as np
import pytest
from PIL import Image as PILImage

from app.credits import service as credits
from app.extensions import db
from app.compat.process_image.models import ImageGenerationRecord
from app.generations.models import GenerationStatus
from app.images.storage import storage
from app.providers import registry
from tests import factories
from tests.factories import make_image
from tests.processes import HANG_GUARD

# These APIs are documented as an AI model: the fal.ai stand-in is connected to run it (issue 21).
pytestmark = pytest.mark.usefixtures("ai_model_connected")


def prepare(api_client, image, prompt="brighten the room"):
    response = api_client.post("/api/image-generations", json={"imageId": image.id, "prompt": prompt})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["data"]


def while_worker_runs(worker, send):
    """Send a request on another thread and run the RQ worker on this one until the request is answered.

    The request waits on the generation's announcements; the worker needs the main thread (signal handlers).
    """
    answer = {}
    thread = threading.Thread(target=lambda: answer.setdefault("response", send()))
    thread.start()
    deadline = time.monotonic() + HANG_GUARD
    while thread.is_alive():
        assert time.monotonic() < deadline, "the request was not answered"
        worker()
        thread.join(0.05)
    return answer["response"]


def balance(project) -> int:
    return credits.balance(project.workspace_id)


def test_health_check_answers(client):
    response = client.get("/api/process-image")
    assert response.status_code == 200 and response.get_json()["status"] == "ok"


def test_process_without_image_id_is_400_and_unknown_is_404(api_client, user):
    missing = api_client.post("/api/process-image", json={})
    assert missing.status_code == 400 and "imageId" in missing.get_json()["error"]
    unknown = api_client.post("/api/process-image", json={"imageId": "no-such-record"})
    assert unknown.status_code == 404 and unknown.get_json()["success"] is False


def test_a_record_of_another_workspace_is_404(api_client):
    other_project = factories.make_project(factories.make_user())
    record = ImageGenerationRecord(project_id=other_project.id, image_id=make_image(other_project).id, prompt="brighten")
    db.session.add(record)
    db.session.commit()
    assert api_client.post("/api/process-image", json={"imageId": record.id}).status_code == 404
    assert api_client.get(f"/api/image-generations/{record.id}").status_code == 404


def test_preparing_charges_nothing_and_processing_returns_the_result(api_client, project, worker):
    before = balance(project)
    record = prepare(api_client, make_image(project, "dark_living_01.jpg"))
    assert record["status"] == "pending" and record["resultImageUrl"] is None
    assert balance(project) == before

    response = while_worker_runs(worker, lambda: api_client.post("/api/process-image", json={"imageId": record["id"]}))
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["success"] is True and "sig=" in body["url"] and body["resultUrl"] == body["url"]

    status = api_client.get(f"/api/image-generations/{record['id']}").get_json()["data"]
    assert status["status"] == "completed" and status["resultImageUrl"] and status["projectCompletedCount"] == 1
    assert balance(project) == before - status["creditsCost"] and status["creditsCost"] > 0

    again = api_client.post("/api/process-image", json={"imageId": record["id"]}).get_json()
    assert again == {"success": True, "message": "Already processed", "url": again["url"], "resultUrl": again["url"]}
    assert again["url"]
    assert balance(project) == before - status["creditsCost"]  # not charged twice


def test_a_slow_edit_holds_the_request_and_its_status_says_processing_meanwhile(app, api_client, project, worker):
    app.config["PROCESS_IMAGE_WAIT"] = 0
    record = prepare(api_client, make_image(project))
    response = api_client.post("/api/process-image", json={"imageId": record["id"]}, buffered=False)
    assert response.status_code == 200
    chunks = response.iter_encoded()
    assert next(chunks).strip() == b""  # whitespace keeps the connection alive
    status_url = f"/api/image-generations/{record['id']}"
    assert api_client.get(status_url).get_json()["data"]["status"] == "processing"
    worker()
    assert json.loads(b"".join(chunks))["url"]
    done = api_client.get(status_url).get_json()["data"]
    assert done["status"] == "completed" and done["resultImageUrl"]
    assert api_client.post("/api/process-image", json={"imageId": record["id"]}).get_json()["message"] == "Already processed"


def test_a_failed_edit_is_500_with_details_marked_failed_and_refunded(api_client, project, worker):
    image = make_image(project)
    storage().put(image.storage_key, b"not a photo any more")
    before = balance(project)
    record = prepare(api_client, image)
    response = while_worker_runs(worker, lambda: api_client.post("/api/process-image", json={"imageId": record["id"]}))
    assert response.status_code == 500
    body = response.get_json()
    assert body["error"] == "Processing failed" and "could not be used" in body["details"]
    status = api_client.get(f"/api/image-generations/{record['id']}").get_json()["data"]
    assert status["status"] == "failed" and "could not be used" in status["errorMessage"]
    assert balance(project) == before


def test_upload_with_the_record_and_an_unsupported_prompt_is_refused_before_charging(app, api_client, project):
    app.config["FAL_KEY"] = ""  # no AI service: Nano Banana Pro, which this API promises, is not there
    registry.configure(app)
    data = {"prompt": "add a swimming pool", "image": (io.BytesIO(factories.photo_bytes("kitchen_02.jpg")), "k.jpg")}
    created = api_client.post("/api/image-generations", data=data, content_type="multipart/form-data")
    assert created.status_code == 201
    record = created.get_json()["data"]
    before = balance(project)
    refused = api_client.post("/api/process-image", json={"imageId": record["id"]})
    assert refused.status_code == 400 and "AI image service" in refused.get_json()["error"]
    assert balance(project) == before


def _mask_data_url(width: int, height: int) -> str:
    mask = np.zeros((height, width), dtype=np.uint8)
    mask[:, : width // 2] = 255  # change the left half only
    buffer = io.BytesIO()
    PILImage.fromarray(mask, "L").save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def test_inpaint_changes_only_the_masked_region(api_client, project, worker):
    image = make_image(project, "dark_living_01.jpg")
    body = {"imageId": image.id, "prompt": "brighten", "mask": _mask_data_url(image.width // 4, image.height // 4)}
    response = while_worker_runs(worker, lambda: api_client.post("/api/inpaint-image", json=body))
    assert response.status_code == 200, response.get_json()
    record = db.session.get(ImageGenerationRecord, response.get_json()["imageGenerationId"])
    assert record.generation.kind == "inpaint" and record.generation.status is GenerationStatus.SUCCEEDED
    original = np.asarray(PILImage.open(io.BytesIO(storage().get(image.storage_key))).convert("L"), dtype=float)
    output = record.generation.outputs[0]
    result = np.asarray(PILImage.open(io.BytesIO(storage().get(output.storage_key))).convert("L"), dtype=float)
    half, margin = original.shape[1] // 2, original.shape[1] // 20
    left_change = np.abs(result[:, : half - margin] - original[:, : half - margin]).mean()
    right_change = np.abs(result[:, half + margin:] - original[:, half + margin:]).mean()
    assert left_change > 10 > 3 > right_change


def test_an_all_black_mask_is_refused(api_client, project):
    image = make_image(project)
    buffer = io.BytesIO()
    PILImage.new("L", (64, 48)).save(buffer, "PNG")
    mask = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
    response = api_client.post("/api/inpaint-image", json={"imageId": image.id, "prompt": "brighten", "mask": mask})
    assert response.status_code == 400 and "white" in response.get_json()["error"]


def test_a_logged_in_agent_prepares_on_the_photo_page_and_processes_with_the_session(app, logged_in, project, worker):
    app.config["PROCESS_IMAGE_WAIT"] = 0
    image = make_image(project)
    page = logged_in.post(f"/images/{image.id}/prepare", data={"prompt": "brighten and sharpen"})
    assert page.status_code == 302
    fragment = logged_in.get(f"/images/{image.id}/prepared").get_data(as_text=True)
    assert "brighten and sharpen" in fragment and "Process" in fragment
    [record] = db.session.query(ImageGenerationRecord).all()
    response = logged_in.post("/api/process-image", json={"imageId": record.id}, buffered=False)
    assert response.status_code == 200
    worker()
    assert json.loads(response.get_data())["url"]
    assert logged_in.get(f"/api/image-generations/{record.id}").get_json()["data"]["status"] == "completed"
    assert "Done" in logged_in.get(f"/images/{image.id}/prepared").get_data(as_text=True)


def test_without_a_session_or_key_is_401(client):
    assert client.post("/api/process-image", json={"imageId": "x"}).status_code == 401


@pytest.mark.parametrize("path", ["/api/image-generations", "/api/inpaint-image"])
def test_a_cookie_form_post_without_the_csrf_token_is_refused(app, logged_in, project, path):
    app.config["WTF_CSRF_ENABLED"] = True
    response = logged_in.post(path, data={"imageId": make_image(project).id, "prompt": "brighten"})
    # In this surface's error shape, like every other error it answers.
    assert response.status_code == 400 and "CSRF" in response.get_json()["error"]
    assert response.get_json()["success"] is False and response.get_json()["code"]
    assert db.session.query(ImageGenerationRecord).count() == 0


def test_two_requests_processing_one_record_at_once_pay_once(api_client, project):
    from sqlalchemy.orm.attributes import set_committed_value

    from app.compat.process_image import service
    from app.errors import ApiError

    record = db.session.get(ImageGenerationRecord, prepare(api_client, make_image(project))["id"])
    first = service.process(record)  # one request attaches its generation and commits…
    db.session.commit()
    charged = balance(project)
    # …while the other had read the record as still pending
    set_committed_value(record, "generation_id", None)
    set_committed_value(record, "generation", None)
    with pytest.raises(ApiError) as conflict:
        service.process(record)
    db.session.rollback()
    assert conflict.value.status == 409 and "already being processed" in conflict.value.message
    assert db.session.get(ImageGenerationRecord, record.id).generation_id == first.id
    assert balance(project) == charged  # the second reservation was rolled back with its generation


def test_an_ai_service_failure_is_500_with_its_reason_and_refunded(app, api_client, project, worker, fal_queue):
    from app.providers import registry

    app.config.update(FAL_KEY=fal_queue.key, FAL_QUEUE_URL=fal_queue.url, OUTBOUND_ALLOWLIST=("127.0.0.1",),
                      PROVIDER_POLL_INTERVAL=0.01, PROVIDER_POLL_MAX=0.05)
    registry.configure(app)
    project.default_provider = "fal"
    db.session.commit()
    fal_queue.script(error="image_load_error")
    record = prepare(api_client, make_image(project), prompt="brighten the room")
    before = balance(project)
    response = while_worker_runs(worker, lambda: api_client.post("/api/process-image", json={"imageId": record["id"]}))
    assert response.status_code == 500
    assert response.get_json()["error"] == "Processing failed"
    assert "fal.ai could not use a reference photo" in response.get_json()["details"]
    assert len(fal_queue.submissions) == 1
    status = api_client.get(f"/api/image-generations/{record['id']}").get_json()["data"]
    assert status["status"] == "failed" and status["creditsCost"] > 0
    assert balance(project) == before


def test_a_repeated_idempotency_key_prepares_once(api_client, project):
    image = make_image(project)
    body, headers = {"imageId": image.id, "prompt": "enhance"}, {"Idempotency-Key": "prepare-1"}
    first = api_client.post("/api/image-generations", json=body, headers=headers)
    again = api_client.post("/api/image-generations", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert first.get_json()["data"]["id"] == again.get_json()["data"]["id"]
    assert db.session.query(ImageGenerationRecord).count() == 1


def test_a_project_lists_its_records_by_status(app, api_client, logged_in, project, worker):
    app.config["PROCESS_IMAGE_WAIT"] = 0
    pending = prepare(api_client, make_image(project))
    done = prepare(api_client, make_image(project))
    held = api_client.post("/api/process-image", json={"imageId": done["id"]}, buffered=False)
    worker()
    assert json.loads(held.get_data())["success"] is True
    everything = api_client.get("/api/image-generations").get_json()
    assert [r["id"] for r in everything["data"]] == [done["id"], pending["id"]]
    assert everything["pagination"]["total"] == 2
    completed = api_client.get("/api/image-generations?status=completed").get_json()["data"]
    assert [r["id"] for r in completed] == [done["id"]]
    assert [r["id"] for r in api_client.get("/api/image-generations?status=pending").get_json()["data"]] == [pending["id"]]
    assert api_client.get("/api/image-generations?status=soon").status_code == 400
    by_session = logged_in.get(f"/api/image-generations?projectId={project.id}").get_json()["data"]
    assert len(by_session) == 2
