"""A Redis blip costs estimates and live updates, never a page or an API answer."""
import pytest

from app.extensions import db, redis_queues
from app.generations.models import Generation, GenerationStatus
from tests.factories import make_image


@pytest.fixture
def redis_down(app, tmp_path):
    """Point the app at a socket nobody listens on, as while Redis restarts; back to the real one afterwards."""
    real_url = app.config["REDIS_URL"]
    app.config["REDIS_URL"] = f"unix://{tmp_path / 'nobody-listens.sock'}"
    redis_queues.init_app(app)
    yield
    app.config["REDIS_URL"] = real_url
    redis_queues.init_app(app)


def create(api_client, project):
    body = {"preset": "enhance", "referenceImages": [make_image(project).id]}
    return api_client.post("/api/v1/generations", json=body)


def test_api_keeps_answering_without_estimates(api_client, project, redis_down):
    created = create(api_client, project)
    assert created.status_code == 201  # recorded; the sweeper queues it once Redis is back
    data = created.get_json()["data"]
    assert data["status"] == "pending" and data["etaSeconds"] is None and data["queuePosition"] == 1

    listed = api_client.get("/api/v1/generations")
    assert listed.status_code == 200
    assert [row["id"] for row in listed.get_json()["data"]] == [data["id"]]
    assert db.session.get(Generation, data["id"]).status is GenerationStatus.QUEUED


def test_pages_keep_rendering_and_live_updates_fall_back_to_a_timer(app, api_client, logged_in, project, redis_down):
    generation_id = create(api_client, project).get_json()["data"]["id"]
    page = logged_in.get(f"/generations/{generation_id}")
    assert page.status_code == 200
    assert "position 1 in the queue" in page.get_data(as_text=True)

    generation = db.session.get(Generation, generation_id)
    generation.status = GenerationStatus.FAILED  # the stream ends once it has shown a finished state
    db.session.commit()
    events = logged_in.get(f"/generations/{generation_id}/events")
    assert events.status_code == 200 and "event: done" in events.get_data(as_text=True)


def test_a_request_that_needs_redis_is_503_with_retry_after(api_client, project, redis_down):
    response = api_client.get("/api/v1/live", query_string={"prompt": "Sunny kitchen"})
    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) > 0
    error = response.get_json()["error"]
    assert error["code"] == "service_restarting" and "try again" in error["message"]
