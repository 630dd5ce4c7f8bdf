"""One photo all the way through: upload, enhance on a real RQ worker, follow it live, download."""
import io
import json

from flask import template_rendered
from PIL import Image as PILImage
import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.extensions import db, redis_queues
from app.generations.dispatch import enqueue_after_commit
from app.generations.models import Generation, GenerationStatus
from app.images.models import Image
from app.images.service import upload_image
from app.images.storage import storage
from app.pages import generations as generation_routes
from tests.factories import photo_bytes


def api_upload(api_client, name="kitchen_01.jpg") -> str:
    response = api_client.post("/api/v1/images/upload", data={"file": (io.BytesIO(photo_bytes(name)), name)})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["data"]["id"]


def test_api_enhance_runs_on_worker_and_result_is_downloadable(api_client, worker, app):
    image_id = api_upload(api_client)
    response = api_client.post(
        "/api/v1/generations", json={"prompt": "make it shine", "referenceImages": [image_id], "preset": "enhance"}
    )
    assert response.status_code == 201
    created = response.get_json()["data"]
    assert created["status"] == "pending"
    assert redis_queues.queue("default").job_ids == [created["id"]]

    worker()

    done = api_client.get(f"/api/v1/generations/{created['id']}").get_json()["data"]
    assert done["status"] == "success"
    assert done["progress"]["percent"] == 100
    output = done["outputImage"]
    assert output["source"] == "generated" and output["generationId"] == created["id"]
    download = app.test_client().get(output["url"])
    assert download.status_code == 200
    result = PILImage.open(io.BytesIO(download.data))
    assert result.size == (1280, 853)
    assert not result.getexif()  # metadata stripped from outputs
    assert download.data != photo_bytes("kitchen_01.jpg")


def test_generation_without_prompt_or_preset_is_400_prompt_is_required(api_client):
    image_id = api_upload(api_client, "kitchen_02.jpg")
    response = api_client.post("/api/v1/generations", json={"referenceImages": [image_id]})
    assert response.status_code == 400
    assert response.get_json()["error"]["message"] == "Prompt is required"


def test_generation_with_unknown_image_is_404(api_client):
    response = api_client.post("/api/v1/generations", json={"preset": "enhance", "referenceImages": ["nope"]})
    assert response.status_code == 404
    assert response.get_json()["error"]["message"] == "Image not found"


def test_generation_with_non_json_body_explains_content_type(api_client):
    response = api_client.post("/api/v1/generations", data="prompt=hi")
    assert response.status_code == 400
    assert "application/json" in response.get_json()["error"]["message"]


def test_preset_needing_ai_provider_is_refused_on_local(api_client):
    image_id = api_upload(api_client, "kitchen_02.jpg")
    response = api_client.post("/api/v1/generations", json={"preset": "declutter", "referenceImages": [image_id]})
    assert response.status_code == 400
    assert "needs an AI image service" in response.get_json()["error"]["message"]
    assert db.session.scalar(db.select(db.func.count(Generation.id))) == 0


def test_corrupt_stored_source_fails_with_a_readable_reason(api_client, worker, app):
    image_id = api_upload(api_client, "kitchen_02.jpg")
    image = db.session.get(Image, image_id)
    storage().put(image.storage_key, photo_bytes("truncated.jpg"))
    created = api_client.post("/api/v1/generations", json={"preset": "enhance", "referenceImages": [image_id]})
    worker()
    body = api_client.get(f"/api/v1/generations/{created.get_json()['data']['id']}").get_json()["data"]
    assert body["status"] == "failed"
    assert "truncated or corrupt" in body["error"]["message"]
    assert redis_queues.queue("default").failed_job_registry.count == 1


def test_enhance_from_photo_page_returns_live_fragment(logged_in, project, worker):
    image = upload_image(project, photo_bytes("kitchen_02.jpg"), "kitchen.jpg")
    db.session.commit()
    response = logged_in.post(f"/images/{image.id}/generations", data={"preset": "enhance"}, headers={"HX-Request": "true"})
    fragment = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'sse-connect="/generations/' in fragment and 'data-status="queued"' in fragment

    worker()

    page = logged_in.get(f"/images/{image.id}").get_data(as_text=True)
    assert 'data-status="succeeded"' in page
    assert "<img-comparison-slider" in page and "Download result" in page
    assert "sse-connect" not in page  # finished components stop streaming


def read_events(response, count):
    events, buffer = [], ""
    for chunk in response.response:
        buffer += chunk.decode() if isinstance(chunk, bytes) else chunk
        while "\n\n" in buffer:
            raw, buffer = buffer.split("\n\n", 1)
            if raw.startswith("event:"):
                events.append(raw)
        if len(events) >= count:
            break
    return events


def test_event_stream_sends_current_state_then_closes_when_finished(logged_in, project, worker):
    image = upload_image(project, photo_bytes("kitchen_02.jpg"), "kitchen.jpg")
    db.session.commit()
    logged_in.post(f"/images/{image.id}/generations", data={"preset": "enhance"})
    generation = db.session.scalar(db.select(Generation))
    worker()
    response = logged_in.get(f"/generations/{generation.id}/events", buffered=False)
    assert response.mimetype == "text/event-stream"
    events = read_events(response, 1)
    assert events[0].startswith("event: done")
    assert 'data-status="succeeded"' in events[0]


def test_event_stream_names_and_renders_each_event_from_the_same_read(logged_in, project, monkeypatch):
    image = upload_image(project, photo_bytes("kitchen_02.jpg"), "kitchen.jpg")
    db.session.commit()
    logged_in.post(f"/images/{image.id}/generations", data={"preset": "enhance"})
    generation_id = db.session.scalar(db.select(Generation.id))
    monkeypatch.setattr(generation_routes, "SSE_REREAD_SECONDS", 0.05)

    def finish_right_after_the_first_render(_sender, template, **_extra):
        # The generation ends between rendering the queued body and ending the read transaction.
        if template.name == "generations/_body.html" and not finished:
            with Session(db.engine) as other:
                other.get(Generation, generation_id).status = GenerationStatus.CANCELED
                other.commit()
            finished.append(True)

    finished = []
    with template_rendered.connected_to(finish_right_after_the_first_render):
        response = logged_in.get(f"/generations/{generation_id}/events", buffered=False)
        events = read_events(response, 2)
    assert events[0].startswith("event: progress") and 'data-status="queued"' in events[0]
    assert events[1].startswith("event: done") and 'data-status="canceled"' in events[1]


def test_worker_progress_is_published_through_redis(api_client, worker):
    image_id = api_upload(api_client, "kitchen_02.jpg")
    generation_id = api_client.post(
        "/api/v1/generations", json={"preset": "enhance", "referenceImages": [image_id]}
    ).get_json()["data"]["id"]
    pubsub = redis_queues.connection.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(f"stagecraft:generation:{generation_id}")
    worker()
    messages = []
    for _ in range(50):  # bounded; a None is the subscription confirmation or a quiet moment
        message = pubsub.get_message(timeout=0.2)
        if message:
            messages.append(json.loads(message["data"]))
        if messages and messages[-1]["status"] == "succeeded":
            break
    statuses = [m["status"] for m in messages]
    assert statuses[0] == "processing" and statuses[-1] == "succeeded"
    assert any(m["total"] > 1 and 0 < m["done"] < m["total"] for m in messages)


def test_finished_generation_is_not_run_again(api_client, worker):
    image_id = api_upload(api_client, "kitchen_02.jpg")
    generation_id = api_client.post(
        "/api/v1/generations", json={"preset": "enhance", "referenceImages": [image_id]}
    ).get_json()["data"]["id"]
    worker()
    generation = db.session.get(Generation, generation_id)
    enqueue_after_commit(generation)  # a duplicate job for the same generation, as after a lost acknowledgement
    db.session.commit()
    worker()
    db.session.refresh(generation)
    assert generation.status is GenerationStatus.SUCCEEDED
    assert db.session.scalar(db.select(db.func.count(Image.id)).where(Image.generation_id == generation_id)) == 1


def test_edit_options_crop_resize_watermark_and_format(api_client, worker, app):
    image_id = api_upload(api_client, "exterior_02.jpg")
    body = {
        "preset": "enhance", "referenceImages": [image_id], "aspectRatio": "1:1",
        "resolution": "1K", "outputFormat": "webp", "watermark": "Virtually staged",
    }
    created = api_client.post("/api/v1/generations", json=body).get_json()["data"]
    assert created["cost"] == 1
    worker()
    output = api_client.get(f"/api/v1/generations/{created['id']}").get_json()["data"]["outputImage"]
    assert (output["width"], output["height"], output["mimeType"]) == (1024, 1024, "image/webp")
    assert PILImage.open(io.BytesIO(app.test_client().get(output["url"]).data)).format == "WEBP"


def test_invalid_options_are_400_with_the_contract_messages(api_client):
    image_id = api_upload(api_client, "kitchen_02.jpg")
    cases = [
        ({"aspectRatio": "wide"}, "Invalid aspect ratio"),
        ({"resolution": "8K"}, "Invalid resolution"),
        ({"outputFormat": "gif"}, "Invalid outputFormat"),
        ({"watermark": "x" * 100}, "watermark must be"),
    ]
    for extra, message in cases:
        body = {"preset": "enhance", "referenceImages": [image_id], **extra}
        response = api_client.post("/api/v1/generations", json=body)
        assert response.status_code == 400, extra
        assert response.get_json()["error"]["message"].startswith(message)


def test_text_to_image_without_an_ai_service_is_refused_before_any_credit_moves(api_client, project):
    body = {"prompt": "A sunlit loft with exposed brick", "aspectRatio": "16:9"}
    refused = api_client.post("/api/v1/generations", json=body)
    assert refused.status_code == 400
    assert refused.get_json()["error"]["code"] == "unsupported_request"
    assert "needs an AI image service" in refused.get_json()["error"]["message"]
    assert db.session.scalar(sa.select(sa.func.count(Generation.id))) == 0


def test_text_to_image_on_local_is_a_free_labelled_placeholder_only_when_the_operator_allows_it(api_client, worker, app):
    app.config["ALLOW_PLACEHOLDERS"] = True
    body = {"prompt": "A sunlit loft with exposed brick", "aspectRatio": "16:9", "numImages": 2}
    created = api_client.post("/api/v1/generations", json=body).get_json()["data"]
    assert created["cost"] == 0 and created["kind"] == "text_to_image"
    worker()
    done = api_client.get(f"/api/v1/generations/{created['id']}").get_json()["data"]
    assert done["status"] == "success" and done["placeholder"] is True
    assert len(done["outputImages"]) == 2
    assert all(image["meta"] == {"placeholder": True} for image in done["outputImages"])
    assert (done["outputImage"]["width"], done["outputImage"]["height"]) == (1024, 576)


def test_free_text_prompt_maps_to_local_operations_or_is_refused_with_capabilities(api_client, worker):
    image_id = api_upload(api_client, "exterior_02.jpg")
    ok = api_client.post("/api/v1/generations", json={"prompt": "make it twilight", "referenceImages": [image_id]})
    assert ok.status_code == 201
    refused = api_client.post("/api/v1/generations", json={"prompt": "add a pool", "referenceImages": [image_id]})
    assert refused.status_code == 400
    assert "day to dusk" in refused.get_json()["error"]["message"]


def test_model_chooses_the_provider_and_unknown_models_are_refused(api_client):
    image_id = api_upload(api_client, "kitchen_02.jpg")
    body = {"preset": "enhance", "referenceImages": [image_id]}
    created = api_client.post("/api/v1/generations", json={**body, "model": "local"}).get_json()["data"]
    assert (created["provider"], created["model"]) == ("local", "local")
    unknown = api_client.post("/api/v1/generations", json={**body, "model": "imagen-9"})
    assert unknown.status_code == 400
    assert unknown.get_json()["error"]["message"] == "Unknown model 'imagen-9'. Available: local."


def test_photo_page_passes_output_options_to_the_generation(logged_in, project, worker):
    image = upload_image(project, photo_bytes("kitchen_02.jpg"), "kitchen.jpg")
    db.session.commit()
    form = {"preset": "enhance", "aspect_ratio": "1:1", "resolution": "1K", "output_format": "png", "watermark": "Virtually staged"}
    logged_in.post(f"/images/{image.id}/generations", data=form, headers={"HX-Request": "true"})
    worker()
    generation = db.session.scalar(db.select(Generation))
    output = generation.outputs[0]
    assert (output.width, output.height, output.mime) == (1024, 1024, "image/png")
    assert generation.watermark == "Virtually staged"
