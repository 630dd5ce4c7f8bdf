"""The analyze API (/v1/sessions) as its README section and /api/docs describe it, the examples verbatim.

Spec points checked: POST /v1/sessions with a context answers sessionId (sess_…); uploads answer
{id, uploadPath, originalFilename}; POST …/analyze takes {"sessionId", "images"} (both required, each image as
its upload answered it) and streams progress / result / complete events with ids; …/analyze-single takes
{"sessionId", "image"} (both required); errors are {"success": false, "error": {message, code}} with a 4xx
status, before any credit moves; a short balance is 402 with needed and available.
"""
import pytest

from app.credits import service as credits
from app.extensions import db
from tests.analysis_helpers import open_session, parse_sse, upload
from tests.conformance import ledger_rows

# The README's session example, verbatim.
CONTEXT_EXAMPLE = {"address": "12 Oak Lane", "city": "Springfield", "bedrooms": 3,
                   "styleKeywords": ["modern"], "brandVoice": "warm"}
METADATA_FIELDS = {"title", "alt", "caption", "description", "filename", "seoTags", "roomType", "quality", "compliance"}


def refused(response, status: int = 400) -> str:
    """The error message of a refusal in this surface's shape."""
    assert response.status_code == status  # (a wrong 200 is a live stream: reading it would wait for workers)
    body = response.get_json()
    assert body["success"] is False and set(body["error"]) >= {"message", "code"}
    return body["error"]["message"]


def test_session_example_answers_a_session_id(api_client):
    response = api_client.post("/v1/sessions", json={"context": CONTEXT_EXAMPLE})
    assert response.status_code == 201
    assert response.get_json()["sessionId"].startswith("sess_")


def test_upload_answers_id_upload_path_and_original_filename(api_client):
    session_id = open_session(api_client, CONTEXT_EXAMPLE)
    (image,) = upload(api_client, session_id, "kitchen_01.jpg")
    assert set(image) >= {"id", "uploadPath", "originalFilename"}
    assert image["uploadPath"].startswith(f"sessions/{session_id}/uploads/") and image["id"].startswith("img_")


def test_analyze_example_streams_progress_result_and_complete_with_ids(api_client, worker):
    session_id = open_session(api_client, CONTEXT_EXAMPLE)
    images = upload(api_client, session_id, "kitchen_01.jpg", "bedroom_01.jpg")
    response = api_client.post(f"/v1/sessions/{session_id}/analyze", json={"sessionId": session_id, "images": images},
                               buffered=False)
    assert response.status_code == 200 and response.mimetype == "text/event-stream"
    worker()
    received = parse_sse(response.get_data(as_text=True))
    names = [event["event"] for event in received]
    assert names.count("progress") == 2 and names.count("result") == 2 and names[-1] == "complete"
    assert all(event["id"] for event in received)
    result = next(event["data"] for event in received if event["event"] == "result")
    assert METADATA_FIELDS <= set(result["metadata"]) and len(result["metadata"]["alt"]) <= 125
    assert received[-1]["data"] == {"status": "completed", "processed": 2, "failed": 0, "total": 2}


@pytest.mark.parametrize("body, missing", [
    ({}, "sessionId, images"),
    ({"images": "upload"}, "sessionId"),
    ({"sessionId": "session"}, "images"),
    ({"sessionId": "session", "images": []}, "images"),
])
def test_analyze_without_a_required_field_is_400_naming_it(api_client, body, missing):
    session_id = open_session(api_client)
    images = upload(api_client, session_id, "kitchen_01.jpg")
    filled = {name: (session_id if value == "session" else images if value == "upload" else value)
              for name, value in body.items()}
    message = refused(api_client.post(f"/v1/sessions/{session_id}/analyze", json=filled))
    assert f"Missing required field{'s' if ',' in missing else ''}: {missing}" in message
    assert ledger_rows() == 0


def test_analyze_an_image_without_its_upload_path_is_400(api_client):
    session_id = open_session(api_client)
    (image,) = upload(api_client, session_id, "kitchen_01.jpg")
    body = {"sessionId": session_id, "images": [{"id": image["id"], "originalFilename": "kitchen_01.jpg"}]}
    assert "uploadPath" in refused(api_client.post(f"/v1/sessions/{session_id}/analyze", json=body))
    assert ledger_rows() == 0


@pytest.mark.parametrize("drop", ["sessionId", "image"])
def test_analyze_single_without_a_required_field_is_400_naming_it(api_client, drop):
    session_id = open_session(api_client)
    (image,) = upload(api_client, session_id, "kitchen_01.jpg")
    body = {"sessionId": session_id, "image": image}
    del body[drop]
    message = refused(api_client.post(f"/v1/sessions/{session_id}/analyze-single", json=body))
    assert f"Missing required field: {drop}" in message
    assert ledger_rows() == 0


def test_analyze_single_image_without_upload_path_is_400(api_client):
    session_id = open_session(api_client)
    (image,) = upload(api_client, session_id, "kitchen_01.jpg")
    body = {"sessionId": session_id, "image": {"id": image["id"]}}
    assert "uploadPath" in refused(api_client.post(f"/v1/sessions/{session_id}/analyze-single", json=body))
    assert ledger_rows() == 0


def test_a_session_id_of_another_session_is_400(api_client):
    session_id = open_session(api_client)
    images = upload(api_client, session_id, "kitchen_01.jpg")
    body = {"sessionId": open_session(api_client), "images": images}
    assert "does not match" in refused(api_client.post(f"/v1/sessions/{session_id}/analyze", json=body))


def test_a_short_balance_is_402_with_needed_and_available(api_client, project):
    session_id = open_session(api_client)
    images = upload(api_client, session_id, "kitchen_01.jpg", "bedroom_01.jpg")
    credits.adjust(project.workspace_id, 1 - credits.balance(project.workspace_id), None, "test: leave 1")
    db.session.commit()
    response = api_client.post(f"/v1/sessions/{session_id}/analyze", json={"sessionId": session_id, "images": images})
    refused(response, 402)
    assert (response.get_json()["needed"], response.get_json()["available"]) == (2, 1)
