"""The analyze API on the test client: sessions, uploads, the SSE run, credits, paths, expiry."""
from datetime import timedelta

import pytest

from app.analysis.models import AnalysisSession
from app.credits import service as credits
from app.extensions import db
from app.images.storage import storage
from app.timeutil import utcnow
from jobs.analysis import sweep_analyses
from tests import factories
from tests.analysis_helpers import open_session, parse_sse, photo_with_phone_number, upload

CONTEXT = {"address": "12 Oak Lane", "city": "Springfield", "bedrooms": 3, "styleKeywords": ["modern"],
           "brandVoice": "warm and friendly"}


def _analyze(api_client, session_id, images, **extra):
    return api_client.post(f"/v1/sessions/{session_id}/analyze", json={"sessionId": session_id, "images": images,
                                                                       **extra}, buffered=False)


def _events_after_work(response, worker) -> list[dict]:
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/event-stream"
    worker()
    return parse_sse(response.get_data(as_text=True))


def test_upload_answers_id_upload_path_and_original_filename(api_client):
    session_id = open_session(api_client)
    (image,) = upload(api_client, session_id, "kitchen_01.jpg")
    assert session_id.startswith("sess_")
    assert image["originalFilename"] == "kitchen_01.jpg"
    assert image["uploadPath"].startswith(f"sessions/{session_id}/uploads/")
    assert not image["uploadPath"].startswith("/")


def test_an_uploaded_name_with_a_path_is_kept_as_its_bare_file_name(api_client):
    session_id = open_session(api_client)
    hostile = "../../etc/kitchen_01.jpg"
    (image,) = upload(api_client, session_id, hostile, photos={hostile: factories.photo_bytes("kitchen_01.jpg")})
    assert image["originalFilename"] == "kitchen_01.jpg"


def test_three_photos_stream_progress_result_complete_and_cost_three_credits(api_client, project, worker):
    before = credits.balance(project.workspace_id)
    session_id = open_session(api_client, CONTEXT)
    images = upload(api_client, session_id, "kitchen_01.jpg", "bedroom_01.jpg", "exterior_02.jpg")

    received = _events_after_work(_analyze(api_client, session_id, images), worker)

    names = [event["event"] for event in received]
    assert names.count("progress") == 3 and names.count("result") == 3 and names[-1] == "complete"
    assert all(event["id"] for event in received)
    assert received[-1]["data"] == {"status": "completed", "processed": 3, "failed": 0, "total": 3}
    results = {event["data"]["imageId"]: event["data"]["metadata"] for event in received if event["event"] == "result"}
    assert set(results) == {image["id"] for image in images}
    kitchen = results[images[0]["id"]]
    assert kitchen["roomType"] == "kitchen" and "12 Oak Lane" in kitchen["title"]
    assert len(kitchen["alt"]) <= 125 and kitchen["filename"] == kitchen["filename"].lower()
    assert set(kitchen["quality"]) >= {"exposure", "sharpness", "tilt"}
    assert "compliance" in kitchen and "springfield" in kitchen["seoTags"]
    assert credits.balance(project.workspace_id) == before - 3


def test_a_photo_that_fails_is_refunded_and_reported(api_client, project, worker):
    before = credits.balance(project.workspace_id)
    session_id = open_session(api_client)
    images = upload(api_client, session_id, "kitchen_01.jpg", "bedroom_01.jpg", "living_01.jpg")
    storage().delete(f"analysis/{session_id}/{images[1]['id']}.jpg")  # lost before its worker reads it

    received = _events_after_work(_analyze(api_client, session_id, images), worker)

    errors = [event["data"] for event in received if event["event"] == "error"]
    assert [error["imageId"] for error in errors] == [images[1]["id"]]
    assert "upload it again" in errors[0]["error"]
    assert received[-1]["data"]["status"] == "partial" and received[-1]["data"]["processed"] == 2
    assert credits.balance(project.workspace_id) == before - 2
    detail = api_client.get(f"/v1/sessions/{session_id}").get_json()
    assert [image["status"] for image in detail["images"]] == ["succeeded", "failed", "succeeded"]


def test_reconnecting_with_last_event_id_gets_only_the_rest(api_client, worker):
    session_id = open_session(api_client)
    images = upload(api_client, session_id, "kitchen_01.jpg", "bedroom_01.jpg")
    received = _events_after_work(_analyze(api_client, session_id, images), worker)

    resumed = api_client.get(f"/v1/sessions/{session_id}/events", headers={"Last-Event-ID": received[1]["id"]},
                             buffered=False)

    assert [e["id"] for e in parse_sse(resumed.get_data(as_text=True))] == [e["id"] for e in received[2:]]


@pytest.mark.parametrize("path", ["../../etc/passwd", "/etc/passwd", "sessions/sess_other/uploads/x.jpg"])
def test_an_upload_path_outside_the_session_is_refused(api_client, project, path):
    before = credits.balance(project.workspace_id)
    session_id = open_session(api_client)
    (image,) = upload(api_client, session_id, "kitchen_01.jpg")

    response = _analyze(api_client, session_id, [{**image, "uploadPath": path}])

    assert response.status_code == 403
    assert "outside this session" in response.get_json()["error"]["message"]
    assert credits.balance(project.workspace_id) == before


def test_another_sessions_photo_is_not_found(api_client):
    first, second = open_session(api_client), open_session(api_client)
    (image,) = upload(api_client, first, "kitchen_01.jpg")

    assert _analyze(api_client, second, [image]).status_code == 404


def test_short_balance_is_402_with_the_numbers(api_client, project):
    credits.adjust(project.workspace_id, -(credits.balance(project.workspace_id) - 1), None, "test")
    db.session.commit()
    session_id = open_session(api_client)
    images = upload(api_client, session_id, "kitchen_01.jpg", "bedroom_01.jpg")

    response = _analyze(api_client, session_id, images)

    assert response.status_code == 402
    assert (response.get_json()["needed"], response.get_json()["available"]) == (2, 1)
    assert "needs 2 credits" in response.get_json()["error"]["message"]


def test_without_an_api_key_sessions_are_refused(client):
    assert client.post("/v1/sessions", json={}).status_code == 401


def test_project_photos_can_be_added_by_id(api_client, project, worker):
    from tests.factories import make_image

    image = make_image(project, "kitchen_02.jpg")
    session_id = open_session(api_client)
    added = api_client.post(f"/v1/sessions/{session_id}/images", json={"imageIds": [image.id]}).get_json()["images"]

    received = _events_after_work(_analyze(api_client, session_id, added), worker)

    assert received[-1]["data"]["processed"] == 1
    assert api_client.post(f"/v1/sessions/{session_id}/images", json={"imageIds": ["nope"]}).status_code == 404


def test_the_phone_number_on_a_photo_is_flagged(api_client, worker):
    pytest.importorskip("rapidocr_onnxruntime", reason="the OCR extra (requirements-extras.txt) is not installed")
    session_id = open_session(api_client)
    images = upload(api_client, session_id, "sign.jpg", photos={"sign.jpg": photo_with_phone_number()})

    received = _events_after_work(_analyze(api_client, session_id, images), worker)

    compliance = received[1]["data"]["metadata"]["compliance"]
    assert compliance["text"]["status"] == "flagged" and compliance["needsAttention"]
    assert any(f["kind"] == "phone number" and "867-5309" in f["text"] for f in compliance["text"]["findings"])


def test_expired_sessions_are_refused_and_swept_with_their_uploads(api_client, app):
    session_id = open_session(api_client)
    (image,) = upload(api_client, session_id, "kitchen_01.jpg")
    key = f"analysis/{session_id}/{image['id']}.jpg"
    db.session.get(AnalysisSession, session_id).expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()

    assert api_client.get(f"/v1/sessions/{session_id}").status_code == 404
    assert sweep_analyses()["deleted"] == [session_id]
    assert not storage().exists(key) and db.session.get(AnalysisSession, session_id) is None


def test_a_quiet_stream_sends_keep_alive_comments(app, monkeypatch):
    from app.analysis import stream

    monkeypatch.setattr(stream, "KEEP_ALIVE_SECONDS", 0)
    monkeypatch.setattr(stream, "READ_BLOCK_MS", 1)
    follower = stream.follow("sess_quiet", 1, "0")

    assert next(follower).startswith("retry:")
    assert next(follower) == ": keep-alive\n\n"


def test_a_heic_upload_is_kept_as_a_jpeg_like_every_other_upload(api_client):
    from PIL import Image as PILImage

    from app.analysis.models import Analysis
    session_id = open_session(api_client)
    (image,) = upload(api_client, session_id, "IMG_0042.HEIC", photos={"IMG_0042.HEIC": factories.heic_with_orientation()})
    analysis = db.session.get(Analysis, image["id"])
    stored = PILImage.open(storage().path(analysis.storage_key))
    assert analysis.storage_key.endswith(".jpg") and image["uploadPath"].endswith(".jpg")
    assert (stored.format, stored.size) == ("JPEG", (1280, 853))


@pytest.mark.parametrize("body", ["[null, null]", "42", '"context"'])
def test_a_session_body_that_is_not_an_object_is_refused_with_what_to_send(api_client, body):
    answer = api_client.post("/v1/sessions", data=body, content_type="application/json")
    assert answer.status_code == 400
    assert "JSON object" in answer.get_json()["error"]["message"]


def test_a_session_may_be_opened_without_a_body(api_client):
    assert api_client.post("/v1/sessions", content_type="application/json").status_code == 201
    assert api_client.post("/v1/sessions").status_code == 201
