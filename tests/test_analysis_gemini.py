"""The Gemini analyzer against the Gemini stand-in: one vision call per photo with a JSON response schema."""
import base64

import pytest
from rq.job import Job

from app.credits import service as credits
from app.extensions import redis_queues
from tests.analysis_helpers import open_session, parse_sse, upload
from tests.upstreams.gemini import json_answer, rate_limited, server_error


@pytest.fixture
def config(config, gemini_upstream):
    """Describing with Gemini (the stand-in on 127.0.0.1)."""
    return {**config, "GEMINI_API_KEY": gemini_upstream.api_key, "GEMINI_BASE_URL": gemini_upstream.base_url,
            "ANALYZER": "auto"}


def _run(api_client, worker, session_id, images, context=None):
    """Analyze, run the worker until no photo waits for a retry (each wait passed at once), then read the stream."""
    body = {"sessionId": session_id, "images": images, **({"context": context} if context else {})}
    response = api_client.post(f"/v1/sessions/{session_id}/analyze", json=body, buffered=False)
    assert response.status_code == 200
    worker()
    while _release_waiting_retries():
        worker()
    return parse_sse(response.get_data(as_text=True))


def _release_waiting_retries() -> bool:
    """Queue the photos waiting to be tried again now, as if their wait had passed."""
    queue = redis_queues.queue("default")
    waiting = queue.scheduled_job_registry.get_job_ids()
    for job_id in waiting:
        queue.scheduled_job_registry.remove(job_id)
        queue.enqueue_job(Job.fetch(job_id, connection=redis_queues.connection))
    return bool(waiting)


def test_each_photo_is_one_vision_call_with_a_json_schema(api_client, worker, gemini_upstream):
    session_id = open_session(api_client)
    images = upload(api_client, session_id, "kitchen_01.jpg", "bedroom_01.jpg")

    received = _run(api_client, worker, session_id, images, {"city": "Springfield", "bedrooms": 3})

    assert len(gemini_upstream.requests) == 2
    sent = gemini_upstream.requests[0]
    assert sent.path == "/v1beta/models/gemini-2.5-flash:generateContent"
    config = sent.body["generationConfig"]
    assert config["responseMimeType"] == "application/json"
    assert set(config["responseSchema"]["required"]) >= {"title", "alt", "caption", "description", "seoTags"}
    parts = sent.body["contents"][0]["parts"]
    assert "Springfield" in parts[0]["text"] and "Bedrooms: 3" in parts[0]["text"]
    assert base64.b64decode(parts[1]["inline_data"]["data"])[:2] == b"\xff\xd8"  # the photo, as JPEG
    results = [event["data"]["metadata"] for event in received if event["event"] == "result"]
    assert len(results) == 2 and results[0]["title"].startswith("title of")
    assert results[0]["roomType"] == "kitchen"  # the file name's room wins over the model's guess
    assert "quality" in results[0] and "compliance" in results[0]


def test_gemini_fields_are_validated_and_trimmed(api_client, worker, gemini_upstream):
    gemini_upstream.answer_next(json_answer({
        "title": "  Sunny   kitchen  ", "alt": "A very long alt text " * 20, "caption": "Sunny kitchen.",
        "description": "A sunny kitchen.", "filename": "Sunny Kitchen.JPG", "seoTags": ["Kitchen", "kitchen", " sunny "],
        "roomType": "kitchen",
    }))
    session_id = open_session(api_client)
    images = upload(api_client, session_id, "IMG_0001.jpg", photos={"IMG_0001.jpg": _bytes("kitchen_01.jpg")})

    metadata = _run(api_client, worker, session_id, images)[1]["data"]["metadata"]

    assert metadata["title"] == "Sunny kitchen"
    assert len(metadata["alt"]) <= 125 and not metadata["alt"].endswith(" ")
    assert metadata["filename"] == "sunny-kitchen-jpg"
    assert metadata["seoTags"] == ["kitchen", "sunny"]
    assert metadata["roomType"] == "kitchen"


def test_an_unreadable_answer_or_three_failed_tries_fail_that_photo_and_refund_it(
    api_client, project, worker, gemini_upstream
):
    gemini_upstream.answer_next(json_answer("not json at all"), *[server_error(500)] * 3)
    before = credits.balance(project.workspace_id)
    session_id = open_session(api_client)
    images = upload(api_client, session_id, "kitchen_01.jpg", "bedroom_01.jpg")

    received = _run(api_client, worker, session_id, images)

    assert len(gemini_upstream.requests) == 4  # an unreadable answer is not asked again; a 500 is, up to 3 tries
    errors = [event["data"]["error"] for event in received if event["event"] == "error"]
    assert len(errors) == 2 and any("could not be read" in e for e in errors) and any("unavailable" in e for e in errors)
    assert received[-1]["data"]["status"] == "failed"
    assert credits.balance(project.workspace_id) == before


def test_a_busy_gemini_is_asked_again_after_its_advice_and_the_stream_says_so(
    api_client, project, worker, gemini_upstream
):
    gemini_upstream.answer_next(rate_limited(retry_after=7))
    before = credits.balance(project.workspace_id)
    session_id = open_session(api_client)
    images = upload(api_client, session_id, "kitchen_01.jpg")

    received = _run(api_client, worker, session_id, images)

    waiting = [event["data"] for event in received if event["event"] == "progress" and event["data"]["status"] == "queued"]
    assert len(waiting) == 1 and waiting[0]["retryInSeconds"] == 7 and "Trying again in 7 s" in waiting[0]["message"]
    assert [event["event"] for event in received][-2:] == ["result", "complete"]
    assert received[-1]["data"]["status"] == "completed" and received[-1]["data"]["total"] == 1
    assert len(gemini_upstream.requests) == 2
    assert credits.balance(project.workspace_id) == before - 1  # charged once, for the description it got


def _bytes(name):
    from tests.factories import photo_bytes

    return photo_bytes(name)
