"""The fal-style queue as fal's queue docs and pipelet's image API doc describe it, their examples verbatim.

pipelet's doc ("Image Edit API", https://api.pipelet.ai/fal/): create with `curl -XPOST … -d '{…}'` (no
Content-Type), poll `status_url`, fetch `response_url`, cancel with `cancel_url`. fal's Queue API: submit answers
{request_id, response_url, status_url, cancel_url}; status is 202 IN_QUEUE / IN_PROGRESS, 200 COMPLETED.
"""
import base64
import io
import json

import pytest
from PIL import Image

from app.apidocs.spec import build_spec
from app.credits import service as credits
from app.extensions import db
from app.generations import lifecycle
from app.generations.models import Generation
from tests import factories
from tests.conformance import connect_all, ledger_rows
from tests.test_openapi import matches_schema

PIPELET_TEXT = "/fal/queue/z-image-text-to-image"
PIPELET_EDIT = "/fal/queue/z-image-image-edit"
# pipelet's create example, verbatim (the body curl -d sends).
PIPELET_EXAMPLE = """{
    "width": "3200",
    "height": "2000",
    "batch_size": 4,
    "prompt": "The girl from first image is playing chess with the girl from second image, on the ancient table from third image."
}"""
# pipelet's status example, verbatim: the fields a client written from it reads.
PIPELET_STATUS_EXAMPLE = {
    "status": "IN_PROGRESS",
    "queue_position": 0,
    "statusMessages": {"message": "Progress: 10/12 Tasks done", "estimatedTotalTimeSeconds": 120},
    "response_url": "https://api.pipelet.ai/fal/queue/z-image-text-to-image/requests/rn5r12q9pdu6yvb3nxty",
}


@pytest.fixture
def connected(app, fal_queue, nanobanana_upstream, gemini_upstream):
    """AI connected: z-image models run on an AI model and succeed."""
    connect_all(app, fal_queue, nanobanana_upstream, gemini_upstream)


@pytest.fixture
def bearer(project):
    """pipelet's clients send `Authorization: Bearer <key>`."""
    return {"Authorization": f"Bearer {factories.make_api_key(project)}"}


def photo_uri(name: str = "kitchen_02.jpg") -> str:
    return "data:image/jpeg;base64," + base64.b64encode(factories.photo_bytes(name)).decode()


def curl_post(client, path, body: str, headers, content_type="application/x-www-form-urlencoded"):
    """As `curl -XPOST -d '<body>'` sends it: the bytes as given, labelled a form (or as content_type says)."""
    extra = {"Content-Type": content_type} if content_type else {}
    return client.post(path, data=body.encode(), headers={**headers, **extra})


def submit(client, path, body: dict, headers) -> dict:
    response = client.post(path, json=body, headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


@pytest.mark.parametrize("content_type", [None, "application/x-www-form-urlencoded", "text/plain"])
def test_pipelets_curl_without_a_json_content_type_is_read_as_json(client, bearer, connected, content_type):
    body = PIPELET_EXAMPLE.replace('"3200"', '"1600"').replace('"2000"', '"900"')  # 16:9, a ratio fal offers
    response = curl_post(client, PIPELET_TEXT, body, bearer, content_type)
    assert response.status_code == 200, response.get_json()
    answer = response.get_json()
    generation = db.session.get(Generation, answer["request_id"])
    assert (generation.aspect_ratio, generation.num_images) == ("16:9", 4)
    assert generation.prompt.startswith("The girl from first image")


def test_a_body_that_is_not_json_is_422_in_fals_shape(client, bearer):
    response = curl_post(client, PIPELET_TEXT, "width=3200&height=2000", bearer)
    assert response.status_code == 422
    assert response.get_json()["detail"][0]["loc"] == ["body"]
    assert ledger_rows() == 0


def test_pipelets_create_example_verbatim_makes_four_images_of_3200_by_2000(client, project, bearer, connected, worker):
    credits.adjust(project.workspace_id, 64, None, "four 4K images")  # more than a new workspace's free credits
    db.session.commit()
    response = curl_post(client, PIPELET_TEXT, PIPELET_EXAMPLE, bearer)
    assert response.status_code == 200, response.get_json()
    worker()
    result = client.get(response.get_json()["response_url"], headers=bearer).get_json()
    assert len(result["results"]) == 4
    for url in result["results"]:
        assert Image.open(io.BytesIO(client.get(url).data)).size == (3200, 2000)


def test_create_answers_the_request_id_and_its_three_urls(client, bearer, connected):
    answer = curl_post(client, PIPELET_TEXT, PIPELET_EXAMPLE.replace('"3200"', '"1600"').replace('"2000"', '"1200"'),
                       bearer).get_json()
    request_id = answer["request_id"]
    base = f"http://localhost{PIPELET_TEXT}/requests/{request_id}"
    assert (answer["response_url"], answer["status_url"], answer["cancel_url"]) == (
        base, f"{base}/status", f"{base}/cancel"
    )


def test_width_and_height_as_strings_set_the_ratio_and_resolution(client, bearer, connected):
    answer = submit(client, PIPELET_EDIT, {"prompt": "brighten the room", "image_urls": [photo_uri()],
                                           "width": "1600", "height": "1200", "priority": 3}, bearer)
    generation = db.session.get(Generation, answer["request_id"])
    assert (generation.aspect_ratio, generation.resolution, generation.priority) == ("4:3", "2K", 3)


def test_in_progress_status_has_every_field_of_pipelets_example(client, bearer, connected):
    answer = submit(client, PIPELET_EDIT, {"prompt": "brighten the room", "image_urls": [photo_uri()]}, bearer)
    lifecycle.start_generation(db.session.get(Generation, answer["request_id"]))
    db.session.commit()
    response = client.get(answer["status_url"], headers=bearer)
    assert response.status_code == 202
    body = response.get_json()
    assert set(PIPELET_STATUS_EXAMPLE) <= set(body)
    assert (body["status"], body["queue_position"]) == ("IN_PROGRESS", 0)
    assert set(body["statusMessages"]) == set(PIPELET_STATUS_EXAMPLE["statusMessages"])
    assert body["statusMessages"]["message"].startswith("Progress: ")
    assert matches_schema(build_spec(client.application), "FalStatus", body) == []


def test_every_status_carries_queue_position(client, bearer, connected, worker):
    first = submit(client, PIPELET_EDIT, {"prompt": "brighten the room", "image_urls": [photo_uri()]}, bearer)
    second = submit(client, PIPELET_EDIT, {"prompt": "brighten the room", "image_urls": [photo_uri()]}, bearer)
    queued = client.get(second["status_url"], headers=bearer)
    assert (queued.status_code, queued.get_json()["status"], queued.get_json()["queue_position"]) == (202, "IN_QUEUE", 1)
    worker()
    done = client.get(first["status_url"], headers=bearer)
    assert (done.status_code, done.get_json()["status"]) == (200, "COMPLETED")
    assert done.get_json()["queue_position"] == 0
    assert isinstance(done.get_json()["metrics"]["inference_time"], float)


def test_result_is_pipelets_image_link_and_results_list(client, bearer, connected, worker):
    answer = submit(client, PIPELET_EDIT, {"prompt": "brighten the room", "image_urls": [photo_uri()]}, bearer)
    assert client.get(answer["response_url"], headers=bearer).status_code == 400  # not finished yet
    worker()
    result = client.get(answer["response_url"], headers=bearer).get_json()
    image = result["image"]
    assert image["data_uri"].startswith("http://localhost/files/") and "sig=" in image["data_uri"]
    downloaded = client.get(image["data_uri"])
    assert downloaded.status_code == 200 and Image.open(io.BytesIO(downloaded.data)).size > (0, 0)
    assert image["file_name"] == result["images"][0]["file_name"]
    assert result["results"] == [image["data_uri"]]
    assert len(json.dumps(result)) < 4000  # links, not megabytes of base64
    assert matches_schema(build_spec(client.application), "FalResult", result) == []


def test_cancel_while_queued_then_after_completion(client, bearer, connected, worker):
    queued = submit(client, PIPELET_EDIT, {"prompt": "brighten the room", "image_urls": [photo_uri()]}, bearer)
    canceled = client.put(queued["cancel_url"], headers=bearer)
    assert (canceled.status_code, canceled.get_json()["status"]) == (202, "CANCELLATION_REQUESTED")
    done = submit(client, PIPELET_EDIT, {"prompt": "brighten the room", "image_urls": [photo_uri()]}, bearer)
    worker()
    late = client.put(done["cancel_url"], headers=bearer)
    assert (late.status_code, late.get_json()["status"]) == (400, "ALREADY_COMPLETED")


def test_a_missing_key_is_401_with_a_detail(client):
    response = curl_post(client, PIPELET_TEXT, PIPELET_EXAMPLE, {})
    assert response.status_code == 401 and response.get_json()["detail"]


def test_a_z_image_edit_runs_on_an_ai_model_when_one_is_connected(client, bearer, connected, worker, fal_queue):
    answer = submit(client, PIPELET_EDIT, {"prompt": "brighten the room", "image_urls": [photo_uri()]}, bearer)
    worker()
    assert client.get(answer["status_url"], headers=bearer).get_json()["status"] == "COMPLETED"
    assert len(fal_queue.submissions) == 1  # not the built-in engine, though it can brighten


def test_an_edit_model_makes_the_num_images_asked_for(client, bearer, connected, worker):
    body = {"prompt": "stage this living room, Scandinavian", "image_urls": [photo_uri()], "num_images": 2}
    answer = submit(client, "/fal/queue/fal-ai/nano-banana-pro/edit", body, bearer)
    worker()
    assert len(client.get(answer["response_url"], headers=bearer).get_json()["images"]) == 2
