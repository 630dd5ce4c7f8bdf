"""The v1 (Banatie) API as its spec and README describe it, the README's examples verbatim.

Spec points checked: `{"success": true, "data": …}` answers and `{"success": false, "error": {message, code}}`
errors; statuses pending / processing / success / failed; technical aliases (@last = the most recently
*generated* image, @first = the first generated one, @upload = the most recent upload); retry regenerates from
the images the original used; Idempotency-Key replays; cancel refunds.
"""
import io

import pytest
from PIL import Image

from app.catalog.limits import API_STATUSES
from tests import factories
from tests.conformance import connect_all, ledger_rows

GENERATIONS = "/api/v1/generations"


@pytest.fixture
def connected(app, fal_queue, nanobanana_upstream, gemini_upstream):
    connect_all(app, fal_queue, nanobanana_upstream, gemini_upstream)


def upload(api_client, name="kitchen_02.jpg", **fields) -> dict:
    data = {"file": (io.BytesIO(factories.photo_bytes(name)), name), **fields}
    response = api_client.post("/api/v1/images/upload", data=data)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["data"]


def create(api_client, body: dict, headers=None) -> dict:
    response = api_client.post(GENERATIONS, json=body, headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["data"]


def fetch(api_client, generation_id: str) -> dict:
    return api_client.get(f"{GENERATIONS}/{generation_id}").get_json()["data"]


def resolve(api_client, alias: str) -> dict:
    response = api_client.get(f"/api/v1/images/resolve/{alias}")
    assert response.status_code == 200, response.get_json()
    return response.get_json()["data"]


def test_readme_enhance_example_runs_pending_to_success_with_a_signed_url(api_client, worker, client):
    image = upload(api_client)
    created = create(api_client, {"prompt": "enhance", "referenceImages": [image["id"]], "preset": "enhance"})
    assert created["status"] == "pending"
    worker()
    done = fetch(api_client, created["id"])
    assert done["status"] == "success" and done["status"] in API_STATUSES
    assert client.get(done["outputImage"]["url"]).status_code == 200


def test_technical_aliases_last_and_first_are_generated_images_upload_the_newest_upload(api_client, worker):
    photo = upload(api_client)
    first = create(api_client, {"preset": "enhance", "referenceImages": [photo["id"]]})
    worker()
    last = create(api_client, {"preset": "enhance", "referenceImages": ["@upload"]})
    worker()
    newest_upload = upload(api_client, "exterior_02.jpg")  # newer than every generated image

    assert resolve(api_client, "@last")["image"]["id"] == fetch(api_client, last["id"])["outputImage"]["id"]
    assert resolve(api_client, "@first")["image"]["id"] == fetch(api_client, first["id"])["outputImage"]["id"]
    assert resolve(api_client, "@upload")["image"]["id"] == newest_upload["id"]
    assert resolve(api_client, "@last")["scope"] == "technical"


def test_last_before_anything_was_generated_is_404_image_not_found(api_client):
    upload(api_client)
    response = api_client.get("/api/v1/images/resolve/@last")
    assert response.status_code == 404
    assert response.get_json() == {"success": False, "error": {"message": "Image not found", "code": "not_found"}}


def test_retry_of_a_generation_made_from_upload_uses_the_same_photo(api_client, worker):
    photo = upload(api_client)
    original = create(api_client, {"preset": "enhance", "referenceImages": ["@upload"]})
    worker()
    assert fetch(api_client, original["id"])["status"] == "success"

    response = api_client.post(f"{GENERATIONS}/{original['id']}/retry", json={"aspectRatio": "1:1"})
    assert response.status_code == 201, response.get_json()
    retry = response.get_json()["data"]
    assert [ref["id"] for ref in retry["referenceImages"]] == [photo["id"]]
    assert (retry["retryOf"], retry["aspectRatio"]) == (original["id"], "1:1")
    worker()
    assert fetch(api_client, retry["id"])["status"] == "success"


def test_readme_priority_and_idempotency_key_example_replays_the_first_answer(api_client):
    image = upload(api_client)
    body = {"prompt": "enhance", "referenceImages": [image["id"]], "preset": "enhance", "priority": 5}
    headers = {"Idempotency-Key": "listing-42-enhance"}
    first = api_client.post(GENERATIONS, json=body, headers=headers)
    again = api_client.post(GENERATIONS, json=body, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json()["data"]["id"] == first.get_json()["data"]["id"]
    assert first.get_json()["data"]["priority"] == 5


def test_readme_cancel_example_fails_the_generation_as_canceled_and_refunds(api_client):
    image = upload(api_client)
    created = create(api_client, {"prompt": "enhance", "referenceImages": [image["id"]], "preset": "enhance"})
    response = api_client.post(f"{GENERATIONS}/{created['id']}/cancel")
    assert response.status_code == 200, response.get_json()
    canceled = fetch(api_client, created["id"])
    assert canceled["status"] == "failed" and canceled["error"]["message"] == "canceled"


def test_a_malformed_ratio_is_400_invalid_aspect_ratio_before_any_charge(api_client):
    response = api_client.post(GENERATIONS, json={"prompt": "Sunlit loft", "aspectRatio": "wide"})
    assert response.status_code == 400
    assert response.get_json()["error"]["message"] == "Invalid aspect ratio"
    assert ledger_rows() == 0


def test_a_ratio_no_provider_offers_is_generated_at_that_ratio_when_ai_is_connected(api_client, worker, client, connected):
    created = create(api_client, {"prompt": "Sunlit loft", "aspectRatio": "16:10"})
    worker()
    done = fetch(api_client, created["id"])
    assert done["status"] == "success" and not done.get("placeholder")
    size = Image.open(io.BytesIO(client.get(done["outputImage"]["url"]).data)).size
    assert size[0] * 10 == size[1] * 16


def test_text_to_image_without_an_ai_service_is_refused_not_a_placeholder(api_client):
    response = api_client.post(GENERATIONS, json={"prompt": "Sunlit loft", "aspectRatio": "16:9"})
    assert 400 <= response.status_code < 500
    assert "AI" in response.get_json()["error"]["message"]
    assert ledger_rows() == 0
