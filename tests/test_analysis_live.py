"""The analyze API on a real server: gunicorn (gevent workers) and RQ workers, read with plain `requests`."""
import json

import requests

from app.credits import service as credits
from app.extensions import db
from tests import factories
from tests.load import running_stagecraft



def read_events(response: requests.Response) -> list[dict]:
    """SSE events as a plain HTTP client sees them, line by line, until `complete`."""
    found, current = [], {}
    for line in response.iter_lines(decode_unicode=True):
        if line == "":
            if "event" in current:
                found.append(current)
                if current["event"] == "complete":
                    break
            current = {}
        elif not line.startswith(":") and ": " in line:
            key, _, value = line.partition(": ")
            current[key] = json.loads(value) if key == "data" else value
    return found


def test_a_plain_http_client_follows_three_photos_and_gets_json_for_one(config, project):
    key = factories.make_api_key(project)
    before = credits.balance(project.workspace_id)
    headers = {"X-API-Key": key}
    with running_stagecraft(config, workers=2) as base:
        session_id = requests.post(f"{base}/v1/sessions", json={"context": {"city": "Springfield"}},
                                   headers=headers, timeout=30).json()["sessionId"]
        files = [("files", (name, factories.photo_bytes(name), "image/jpeg"))
                 for name in ("kitchen_01.jpg", "bedroom_01.jpg", "exterior_02.jpg")]
        images = requests.post(f"{base}/v1/sessions/{session_id}/uploads", files=files, headers=headers,
                               timeout=30).json()["images"]

        with requests.post(f"{base}/v1/sessions/{session_id}/analyze", json={"sessionId": session_id,
                           "images": images}, headers=headers, stream=True, timeout=120) as response:
            assert response.headers["Content-Type"].startswith("text/event-stream")
            received = read_events(response)

        single = requests.post(f"{base}/v1/sessions/{session_id}/analyze-single",
                               json={"sessionId": session_id, "image": images[0]}, headers=headers, timeout=180)
        outside = requests.post(f"{base}/v1/sessions/{session_id}/analyze-single", headers=headers, timeout=30,
                                json={"sessionId": session_id, "image": {**images[0], "uploadPath": "/etc/passwd"}})
        results = requests.get(f"{base}/v1/sessions/{session_id}", headers=headers, timeout=30).json()

    names = [event["event"] for event in received]
    assert names.count("progress") == 3 and names.count("result") == 3 and names[-1] == "complete"
    assert all(event.get("id") for event in received)
    assert received[-1]["data"] == {"status": "completed", "processed": 3, "failed": 0, "total": 3}
    assert single.status_code == 200 and single.headers["Content-Type"] == "application/json"
    assert single.json()["metadata"]["roomType"] == "kitchen" and single.json()["status"] == "succeeded"
    assert outside.status_code == 403
    assert [image["status"] for image in results["images"]] == ["succeeded"] * 3
    db.session.expire_all()
    assert credits.balance(project.workspace_id) == before - 4  # three in the stream, one alone
