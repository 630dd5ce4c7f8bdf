"""The nanobanana API as docs.nanobananaapi.ai describes it ("Generate or Edit Image", "Get Task Details"),
its examples verbatim.

Spec points checked: every answer is HTTP 200 {code, msg, data}; generate answers data.taskId; numImages is
1-4 ("You can generate 1-4 images per request", for both TEXTTOIAMGE and IMAGETOIAMGE); record-info carries
taskId, paramJson, completeTime, response {originImageUrl, resultImageUrl}, successFlag (0 generating,
1 success, 2 create failed, 3 generate failed), errorCode, errorMessage, createTime; originImageUrl is the
original image, resultImageUrl the result.
"""
import base64
import io
from datetime import timezone

import pytest
from PIL import Image

from app.extensions import db
from app.generations.models import Generation
from app.images.models import Image as ImageRow
from app.images.storage import storage
from tests import factories
from tests.conformance import connect_all, ledger_rows
from tests.conftest import ApiClient

GENERATE, RECORD, CREDIT = "/api/v1/nanobanana/generate", "/api/v1/nanobanana/record-info", "/api/v1/common/credit"
# The "Generate or Edit Image" request example, verbatim but for its callBackUrl (the test's own receiver).
GENERATE_EXAMPLE = {
    "prompt": "A serene mountain landscape at sunset with a lake reflecting the orange sky",
    "numImages": 1,
    "type": "TEXTTOIAMGE",
}
RECORD_FIELDS = {"taskId", "paramJson", "completeTime", "response", "successFlag", "errorCode", "errorMessage",
                 "createTime"}


@pytest.fixture
def nb(client, project):
    return ApiClient(client, "Bearer " + factories.make_api_key(project), header="Authorization")


@pytest.fixture
def connected(app, fal_queue, nanobanana_upstream, gemini_upstream):
    connect_all(app, fal_queue, nanobanana_upstream, gemini_upstream)


def photo_uri(name: str = "dark_living_01.jpg") -> str:
    return "data:image/jpeg;base64," + base64.b64encode(factories.photo_bytes(name)).decode()


def answer(response) -> dict:
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {"code", "msg", "data"}
    return body


def generate(nb, body: dict) -> dict:
    return answer(nb.post(GENERATE, json=body))


def record(nb, task_id: str) -> dict:
    body = answer(nb.get(RECORD, query_string={"taskId": task_id}))
    assert body["code"] == 200, body
    assert set(body["data"]) >= RECORD_FIELDS
    return body["data"]


def download(client, url: str) -> Image.Image:
    response = client.get(url)
    assert response.status_code == 200
    return Image.open(io.BytesIO(response.data))


def test_generate_example_answers_a_task_id_then_record_info_reports_success(nb, client, worker, connected, receiver):
    created = generate(nb, {**GENERATE_EXAMPLE, "callBackUrl": receiver.url})
    assert (created["code"], created["msg"]) == (200, "success") and created["data"]["taskId"]
    task_id = created["data"]["taskId"]
    running = record(nb, task_id)
    assert (running["successFlag"], running["response"], running["errorCode"]) == (0, None, 0)
    worker()
    done = record(nb, task_id)
    assert (done["taskId"], done["successFlag"], done["errorCode"], done["errorMessage"]) == (task_id, 1, 0, "")
    assert download(client, done["response"]["resultImageUrl"]).size > (0, 0)


def test_times_are_milliseconds_since_the_epoch_and_complete_time_follows_create_time(nb, worker, connected):
    task_id = generate(nb, {"prompt": "brighten this room", "type": "IMAGETOIAMGE", "imageUrls": [photo_uri()]})
    task_id = task_id["data"]["taskId"]
    running = record(nb, task_id)
    generation = db.session.get(Generation, task_id)
    assert running["createTime"] == round(generation.created_at.replace(tzinfo=timezone.utc).timestamp() * 1000)
    assert running["completeTime"] is None
    worker()
    done = record(nb, task_id)
    assert isinstance(done["completeTime"], int) and done["completeTime"] >= done["createTime"] > 1_600_000_000_000


def test_an_edits_origin_image_url_is_the_input_photo_and_result_image_url_the_edit(nb, client, worker, connected):
    task_id = generate(nb, {"prompt": "brighten this room", "type": "IMAGETOIAMGE", "imageUrls": [photo_uri()]})
    worker()
    done = record(nb, task_id["data"]["taskId"])
    origin, result = done["response"]["originImageUrl"], done["response"]["resultImageUrl"]
    assert origin != result
    [photo_id] = db.session.get(Generation, done["taskId"]).reference_image_ids
    assert client.get(origin).data == storage().get(db.session.get(ImageRow, photo_id).storage_key)  # the input
    assert client.get(result).data != client.get(origin).data


@pytest.mark.parametrize("count", [2, 4])
def test_an_edit_makes_the_number_of_images_asked_for(nb, client, worker, connected, count):
    created = generate(nb, {"prompt": "stage this living room, Scandinavian", "type": "IMAGETOIAMGE",
                            "numImages": count, "imageUrls": [photo_uri()]})
    assert created["code"] == 200, created
    worker()
    done = record(nb, created["data"]["taskId"])
    assert done["successFlag"] == 1
    assert len(done["response"]["resultImageUrls"]) == count


def test_several_versions_of_an_edit_without_an_ai_service_are_refused_before_charging(nb):
    refused = generate(nb, {"prompt": "brighten this room", "type": "IMAGETOIAMGE", "numImages": 2,
                            "imageUrls": [photo_uri()]})
    assert refused["code"] == 505 and refused["data"] is None  # "a request no connected service can do"
    assert ledger_rows() == 0


@pytest.mark.parametrize("count", [0, 5])
def test_num_images_outside_one_to_four_is_422(nb, count):
    refused = generate(nb, {**GENERATE_EXAMPLE, "numImages": count})
    assert refused["code"] == 422 and refused["data"] is None
    assert ledger_rows() == 0


def test_a_wrong_key_is_code_401_and_an_unknown_task_404(client, nb):
    wrong = answer(client.post(GENERATE, json=GENERATE_EXAMPLE, headers={"Authorization": "Bearer nope"}))
    assert wrong["code"] == 401
    assert answer(nb.get(RECORD, query_string={"taskId": "no-such-task"}))["code"] == 404


def test_credit_is_a_bare_number(nb):
    body = answer(nb.get(CREDIT))
    assert body["code"] == 200 and isinstance(body["data"], int)


def test_an_edit_runs_on_an_ai_service_when_one_is_connected(nb, worker, connected, fal_queue, nanobanana_upstream):
    created = generate(nb, {"prompt": "brighten this room", "type": "IMAGETOIAMGE", "imageUrls": [photo_uri()]})
    worker()
    assert record(nb, created["data"]["taskId"])["successFlag"] == 1
    assert fal_queue.submissions or nanobanana_upstream.calls("/api/v1/nanobanana/generate")
