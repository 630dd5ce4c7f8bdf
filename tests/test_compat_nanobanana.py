"""The nanobananaapi.ai surface driven the way its clients drive it: generate → poll record-info → result."""
import base64
import io
import json
import os
import re
import sqlite3
import threading
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from PIL import Image, ImageChops, ImageStat
from werkzeug.serving import make_server

from app import create_app, outbound
from app.auth.models import ApiKey
from app.compat.nanobanana import service as nanobanana_service
from app.compat.nanobanana.serializers import callback_payload
from app.credits import service as credits
from app.extensions import db
from app.generations import lifecycle
from app.generations.models import Generation, GenerationStatus
from app.images.models import Image as ImageRow
from app.images.storage import file_url
from app.providers import registry
from app.providers.base import ProviderRequest
from app.providers.nanobanana import NanobananaProvider
from app.webhooks.models import WebhookDelivery
from tests import factories
from tests.conftest import ApiClient
from tests.upstreams import LocalServer
from tests.upstreams.receiver import WebhookReceiver

# These APIs are documented as an AI model: the fal.ai stand-in is connected to run it (issue 21).
pytestmark = pytest.mark.usefixtures("ai_model_connected")

GENERATE, RECORD = "/api/v1/nanobanana/generate", "/api/v1/nanobanana/record-info"
PHOTO = "dark_living_01.jpg"


@pytest.fixture
def nb(client, project):
    """A client sending `Authorization: Bearer <our API key>`, as nanobanana clients do."""
    return ApiClient(client, "Bearer " + factories.make_api_key(project), header="Authorization")


def data_uri(name: str = PHOTO) -> str:
    return "data:image/jpeg;base64," + base64.b64encode(factories.photo_bytes(name)).decode()


def call(nb, path, **kwargs) -> dict:
    """One API call: always HTTP 200, the outcome in the body's code."""
    response = nb.post(path, **kwargs) if "json" in kwargs or "data" in kwargs else nb.get(path, **kwargs)
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert set(body) == {"code", "msg", "data"}
    return body


def generate(nb, **body) -> str:
    answer = call(nb, GENERATE, json=body)
    assert answer["code"] == 200, answer
    return answer["data"]["taskId"]


def record(nb, task_id: str) -> dict:
    answer = call(nb, RECORD, query_string={"taskId": task_id})
    assert answer["code"] == 200, answer
    return answer["data"]


def fetch_image(client, url: str) -> Image.Image:
    assert url.startswith("http://localhost/files/") and "sig=" in url and "expires=" in url
    response = client.get(url[len("http://localhost"):])
    assert response.status_code == 200
    return Image.open(io.BytesIO(response.data)).convert("RGB")


def generation_count() -> int:
    return db.session.scalar(sa.select(sa.func.count(Generation.id)))


@pytest.mark.parametrize("spelling", ["TEXTTOIMAGE", "TEXTTOIAMGE"])
def test_text_to_image_is_polled_until_its_results_are_ready(nb, client, worker, spelling):
    task_id = generate(nb, prompt="A bright Scandinavian living room", type=spelling, numImages=2, image_size="16:9")

    pending = record(nb, task_id)
    assert (pending["successFlag"], pending["response"], pending["completeTime"]) == (0, None, None)
    assert isinstance(pending["createTime"], int)  # milliseconds since the epoch, as that API family's record-info
    worker()

    done = record(nb, task_id)
    assert (done["successFlag"], done["errorCode"], done["errorMessage"]) == (1, 0, "")
    assert isinstance(done["completeTime"], int) and done["completeTime"] >= done["createTime"]
    urls = done["response"]["resultImageUrls"]
    assert len(urls) == 2 and done["response"]["resultImageUrl"] == urls[0] == done["response"]["originImageUrl"]
    width, height = fetch_image(client, urls[1]).size
    assert abs(width / height - 16 / 9) < 0.01
    params = json.loads(done["paramJson"])
    assert params == {"prompt": "A bright Scandinavian living room", "type": "TEXTTOIAMGE", "numImages": 2,
                      "image_size": "16:9"}


@pytest.mark.parametrize("spelling", ["IMAGETOIMAGE", "IMAGETOIAMGE"])
def test_image_editing_from_a_data_uri_charges_and_returns_the_edit(nb, client, project, worker, spelling):
    before = call(nb, "/api/v1/common/credit")["data"]
    task_id = generate(nb, prompt="brighten this room", type=spelling, imageUrls=[data_uri()], image_size="4:3")
    worker()

    done = record(nb, task_id)
    assert done["successFlag"] == 1
    result = fetch_image(client, done["response"]["resultImageUrl"])
    assert abs(result.width / result.height - 4 / 3) < 0.01
    generation = db.session.get(Generation, task_id)
    # The edit ran on the AI model this API promises (fal's Nano Banana Pro at 4 credits), not the built-in engine.
    assert (generation.kind, generation.provider, generation.cost) == ("edit", "fal", 4)
    assert call(nb, "/api/v1/common/credit")["data"] == before - 4
    assert json.loads(done["paramJson"])["type"] == "IMAGETOIAMGE"


def test_the_watermark_text_is_drawn_on_the_result(nb, client, worker):
    body = {"prompt": "brighten this room", "type": "IMAGETOIAMGE", "imageUrls": [data_uri()]}
    labelled = generate(nb, **body, watermark="Oak Realty")
    plain = generate(nb, **body)
    worker()

    with_label = fetch_image(client, record(nb, labelled)["response"]["resultImageUrl"])
    without = fetch_image(client, record(nb, plain)["response"]["resultImageUrl"])
    assert db.session.get(Generation, labelled).watermark == "Oak Realty"
    w, h = with_label.size
    difference = ImageChops.difference(with_label, without).convert("L")
    changed = difference.point(lambda value: 255 if value > 60 else 0)
    left, top, right, bottom = changed.getbbox()  # None (an error here) if the label were missing
    assert left > w / 2 and top > h * 0.8 and right <= w and bottom <= h  # a box in the bottom-right corner
    assert ImageStat.Stat(changed).sum[0] / 255 > 500  # of real size: its dark box and the white text
    assert ImageStat.Stat(difference.crop((0, 0, w // 2, h // 2))).sum[0] == 0  # the rest is the same edit


def test_our_own_signed_link_is_read_from_storage_not_downloaded(nb, project, worker):
    image = factories.make_image(project, PHOTO)
    link = "http://localhost" + file_url(image.storage_key)

    task_id = generate(nb, prompt="brighten", type="IMAGETOIAMGE", imageUrls=[link])

    assert db.session.get(Generation, task_id).reference_image_ids == [image.id]  # the same photo, no copy
    worker()
    assert record(nb, task_id)["successFlag"] == 1


def test_a_signed_link_on_the_public_base_url_is_ours_too(app, nb, project):
    app.config["PUBLIC_BASE_URL"] = "https://photos.example.com/studio"
    image = factories.make_image(project, PHOTO)
    link = "https://photos.example.com/studio" + file_url(image.storage_key)

    task_id = generate(nb, prompt="brighten", type="IMAGETOIAMGE", imageUrls=[link])

    assert db.session.get(Generation, task_id).reference_image_ids == [image.id]


def test_a_signed_link_to_another_workspaces_photo_is_copied_in(nb, project):
    other = factories.make_image(factories.make_project(factories.make_user()), PHOTO)
    link = "http://localhost" + file_url(other.storage_key)

    task_id = generate(nb, prompt="brighten", type="IMAGETOIAMGE", imageUrls=[link])

    [reference] = db.session.get(Generation, task_id).reference_image_ids
    copy = db.session.get(ImageRow, reference)
    assert copy.project_id == project.id and copy.sha256 == other.sha256 and copy.id != other.id


def test_a_tampered_signed_link_is_a_validation_error(nb, project):
    image = factories.make_image(project, PHOTO)
    link = "http://localhost" + re.sub(r"sig=\w+", "sig=0000", file_url(image.storage_key))

    answer = call(nb, GENERATE, json={"prompt": "brighten", "type": "IMAGETOIAMGE", "imageUrls": [link]})

    assert answer["code"] == 422 and "expired or is not valid" in answer["msg"]


class PhotoServer(LocalServer):
    """A web server on 127.0.0.1 with one photo at /photo.jpg, counting its downloads."""

    def __init__(self):
        self.downloads = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                data = factories.photo_bytes(PHOTO) if self.path == "/photo.jpg" else b""
                server.downloads += 1
                self.send_response(200 if data else 404)
                self.send_header("Content-Type", "image/jpeg")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        super().__init__(Handler)


def test_another_url_is_downloaded_by_the_safe_fetcher(app, nb, worker):
    app.config["OUTBOUND_ALLOWLIST"] = ("127.0.0.1",)
    with PhotoServer() as server:
        task_id = generate(nb, prompt="brighten", type="IMAGETOIAMGE", imageUrls=[f"{server.base_url}/photo.jpg"])
        missing = call(nb, GENERATE, json={"prompt": "brighten", "type": "IMAGETOIAMGE",
                                           "imageUrls": [f"{server.base_url}/gone.jpg"]})
    assert server.downloads == 2
    assert missing["code"] == 422 and "could not be downloaded" in missing["msg"]
    worker()
    assert record(nb, task_id)["successFlag"] == 1


def test_a_private_address_is_refused_without_being_fetched(app, nb):
    app.config["OUTBOUND_ALLOWLIST"] = ()  # as in production: no private address is allowed out
    with PhotoServer() as server:
        answer = call(nb, GENERATE, json={"prompt": "brighten", "type": "IMAGETOIAMGE",
                                          "imageUrls": [f"{server.base_url}/photo.jpg"]})
    assert answer["code"] == 422 and "not on the public internet" in answer["msg"]
    assert server.downloads == 0


@pytest.mark.parametrize("body, code, wording", [
    ({"type": "TEXTTOIAMGE"}, 400, "prompt is required"),
    ({"prompt": "   ", "type": "TEXTTOIAMGE"}, 400, "prompt is required"),
    ({"prompt": 7, "type": "TEXTTOIAMGE"}, 400, "prompt must be a string"),
    ({"prompt": "a house", "type": "TEXT2IMAGE"}, 400, "type must be one of"),
    ({"prompt": "a house", "numImages": "2"}, 400, "numImages must be a whole number"),
    ({"prompt": "a house", "numImages": 1.5}, 400, "numImages must be a whole number"),
    ({"prompt": "a house", "numImages": 5}, 422, "from 1 to 4"),
    ({"prompt": "a house", "numImages": 0}, 422, "from 1 to 4"),
    ({"prompt": "a house", "image_size": "7:5"}, 422, "image_size must be one of"),
    ({"prompt": "a house", "type": "IMAGETOIAMGE"}, 400, "imageUrls is required"),
    ({"prompt": "a house", "type": "IMAGETOIMAGE", "imageUrls": "x.jpg"}, 400, "must be a list"),
    ({"prompt": "a house", "type": "IMAGETOIMAGE", "imageUrls": ["data:image/png;base64,@@@"]}, 422, "not valid"),
    ({"prompt": "a house", "type": "IMAGETOIMAGE", "imageUrls": ["data:image/png;base64,aGVsbG8="]}, 422, "data-uri"),
    ({"prompt": "a house", "callBackUrl": "http://10.0.0.7/hook"}, 422, "public internet"),
    ({"prompt": "a house", "callbackUrl": "ftp://example.com/hook"}, 422, "callbackUrl must be an http(s) URL"),
    ({"prompt": "a house", "watermark": "x" * 61}, 400, "watermark"),
    ({"prompt": "x" * 5000}, 400, "Prompt is too long"),
])
def test_bad_requests_answer_the_documented_code_and_create_nothing(nb, body, code, wording):
    answer = call(nb, GENERATE, json=body)

    assert answer["code"] == code and wording in answer["msg"], answer
    assert answer["data"] is None
    assert generation_count() == 0


def test_a_whole_number_written_with_a_decimal_point_is_a_whole_number(nb):
    """JSON has one number type (and the document says integer): 2.0 asks for two images, as 2 does."""
    task_id = generate(nb, prompt="a house", numImages=2.0)
    assert db.session.get(Generation, task_id).num_images == 2


def test_a_body_that_is_not_json_is_a_parameter_error(nb):
    answer = call(nb, GENERATE, data="prompt=a house", headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert answer["code"] == 400 and "JSON" in answer["msg"]


def test_insufficient_credits_is_code_402_in_the_body(app, nb, project):
    balance = credits.balance(project.workspace_id)
    credits.adjust(project.workspace_id, -balance, actor=None, reason="spent elsewhere")
    db.session.commit()

    answer = call(nb, GENERATE, json={"prompt": "brighten", "type": "IMAGETOIAMGE", "imageUrls": [data_uri()]})

    assert answer["code"] == 402 and "Not enough credits" in answer["msg"]
    assert generation_count() == 0
    stored = [path for path in Path(app.config["STORAGE_DIR"]).rglob("*") if path.is_file()]
    assert stored == []  # the refused request kept none of the photos it brought in
    assert call(nb, "/api/v1/common/credit")["data"] == 0


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer sc_not-a-real-key"}])
def test_a_missing_or_wrong_key_is_code_401(client, headers):
    for path, kwargs in ((GENERATE, {"json": {"prompt": "a house"}}), (RECORD + "?taskId=x", {}),
                         ("/api/v1/common/credit", {})):
        response = client.post(path, headers=headers, **kwargs) if kwargs else client.get(path, headers=headers)
        assert response.status_code == 200
        assert response.get_json()["code"] == 401, path
    assert generation_count() == 0


def test_another_workspaces_task_is_not_found(nb, client, worker):
    task_id = generate(nb, prompt="a house at dusk")
    stranger = ApiClient(client, "Bearer " + factories.make_api_key(factories.make_project(factories.make_user())),
                         header="Authorization")

    answer = call(stranger, RECORD, query_string={"taskId": task_id})

    assert (answer["code"], answer["data"]) == (404, None)
    assert call(nb, RECORD, query_string={"taskId": "no-such-task"})["code"] == 404
    assert call(nb, RECORD)["code"] == 400


def test_record_is_the_same_as_record_info(nb):
    task_id = generate(nb, prompt="a house at dusk")
    assert call(nb, "/api/v1/nanobanana/record", query_string={"taskId": task_id})["data"] == record(nb, task_id)


def test_credit_is_the_workspaces_balance_as_a_bare_number(nb, project):
    answer = call(nb, "/api/v1/common/credit")
    assert answer == {"code": 200, "msg": "success", "data": credits.balance(project.workspace_id)}
    assert isinstance(answer["data"], int)


def test_the_callback_url_is_checked_and_stored_in_either_spelling(app, nb):
    app.config["OUTBOUND_ALLOWLIST"] = ("127.0.0.1",)
    first = generate(nb, prompt="a house", callBackUrl="http://127.0.0.1:9/hook")
    second = generate(nb, prompt="a house", callbackUrl="http://127.0.0.1:9/other")
    assert db.session.get(Generation, first).callback_url == "http://127.0.0.1:9/hook"
    assert db.session.get(Generation, second).callback_url == "http://127.0.0.1:9/other"
    assert json.loads(record(nb, first)["paramJson"])["callBackUrl"] == "http://127.0.0.1:9/hook"


def test_an_idempotency_key_returns_the_same_task(nb):
    headers = {"Idempotency-Key": "order-17"}
    first = call(nb, GENERATE, json={"prompt": "a house"}, headers=headers)
    again = call(nb, GENERATE, json={"prompt": "a house"}, headers=headers)
    assert first == again and generation_count() == 1


@pytest.fixture
def fal_connected(app, fal_queue):
    app.config.update(FAL_KEY=fal_queue.key, FAL_QUEUE_URL=fal_queue.url, PROVIDER_POLL_INTERVAL=0.01,
                      PROVIDER_POLL_MAX=0.05, OUTBOUND_ALLOWLIST=("127.0.0.1",), RETRY_BACKOFF=0)
    registry.configure(app)


def test_a_content_filter_refusal_is_code_400_in_the_record_and_the_callback(nb, worker, fal_connected, fal_queue):
    fal_queue.script(error="content_policy_violation")
    task_id = generate(nb, prompt="something the filter refuses", callBackUrl="http://127.0.0.1:9/hook")
    worker()

    failed = record(nb, task_id)
    assert (failed["successFlag"], failed["errorCode"], failed["response"]) == (3, 400, None)
    assert "safety filter" in failed["errorMessage"]
    payload = callback_payload(db.session.get(Generation, task_id))
    assert payload == {"code": 400, "msg": failed["errorMessage"], "data": {"taskId": task_id, "info": {}}}


@pytest.fixture
def limited_app(config):
    app = create_app({**config, "RATELIMIT_ENABLED": True})
    with app.app_context():
        yield app


def test_the_rate_limit_is_code_429_with_retry_after(limited_app):
    key = factories.make_api_key(factories.make_project(factories.make_user()))
    db.session.scalar(sa.select(ApiKey)).rate_limit = 1
    db.session.commit()
    client = limited_app.test_client()
    headers = {"Authorization": f"Bearer {key}"}
    assert client.get("/api/v1/common/credit", headers=headers).get_json()["code"] == 200

    limited = client.get("/api/v1/common/credit", headers=headers)

    assert limited.status_code == 200 and limited.get_json()["code"] == 429
    assert int(limited.headers["Retry-After"]) > 0


# callback_payload, on its own: the body the webhooks feature delivers for a nanobanana task.

def finished(project, worker, **changes) -> Generation:
    from app.generations.service import create_generation
    from app.generations.spec import GenerationSpec

    generation = create_generation(project, GenerationSpec(prompt="a house at dusk"))
    db.session.commit()
    worker()
    db.session.refresh(generation)
    for name, value in changes.items():
        setattr(generation, name, value)
    return generation


def test_callback_payload_of_a_success_names_the_stored_result(project, worker):
    generation = finished(project, worker)
    payload = callback_payload(generation)
    assert (payload["code"], payload["msg"]) == (200, "Image generated successfully.")
    assert payload["data"]["taskId"] == generation.id
    url = payload["data"]["info"]["resultImageUrl"]
    assert url.startswith("http://") and "/files/projects/" in url and "sig=" in url
    assert payload["data"]["info"]["resultImageUrls"] == [url]


@pytest.mark.parametrize("status, error_code, message, code", [
    (GenerationStatus.FAILED, "generation_failed", "fal.ai could not make the image.", 501),
    (GenerationStatus.FAILED, "content_policy", "The safety filter blocked this request.", 400),
    (GenerationStatus.FAILED, "internal_error", "Something broke.", 500),
    (GenerationStatus.CANCELED, "canceled", "Canceled on request.", 501),
])
def test_callback_payload_of_a_failure_carries_its_code_and_why(project, status, error_code, message, code):
    generation = Generation(id="t-1", project_id=project.id, status=status, error_code=error_code,
                            error_message=message, provider="local")
    payload = callback_payload(generation)
    expected = "The task was canceled." if status is GenerationStatus.CANCELED else message
    assert payload == {"code": code, "msg": expected, "data": {"taskId": "t-1", "info": {}}}


def test_a_task_that_failed_before_it_ran_is_flag_2_and_a_canceled_one_flag_3(nb):
    never_ran, canceled = generate(nb, prompt="a house"), generate(nb, prompt="a barn")
    lifecycle.fail_generation(db.session.get(Generation, never_ran), "provider_error", "No service could take it.")
    lifecycle.request_cancel(db.session.get(Generation, canceled))
    db.session.commit()

    assert (record(nb, never_ran)["successFlag"], record(nb, never_ran)["errorCode"]) == (2, 501)
    assert record(nb, canceled)["successFlag"] == 3
    assert record(nb, canceled)["errorMessage"] == "The task was canceled."



@pytest.fixture
def served(config, ai_model_connected):
    """Stagecraft itself on 127.0.0.1 (same database and Redis as the test, fal's stand-in connected)."""
    server_app = create_app({**config, "OUTBOUND_ALLOWLIST": ("127.0.0.1", "localhost"),
                             "FAL_KEY": ai_model_connected.key, "FAL_QUEUE_URL": ai_model_connected.url})
    server = make_server("127.0.0.1", 0, server_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(10)
    with server_app.app_context():
        db.engine.dispose()


def test_our_own_nanobanana_adapter_works_against_this_surface_unchanged(app, project, worker, served):
    """The adapter in app/providers/nanobanana.py was written from that API's documentation: it is a real client."""
    app.config["OUTBOUND_ALLOWLIST"] = ("127.0.0.1",)
    client = NanobananaProvider(factories.make_api_key(project), served, timeout=10)
    photo = factories.make_image(project, PHOTO)
    request = ProviderRequest(kind="edit", prompt="brighten this room", reference_ids=[photo.id], aspect_ratio="4:3",
                              reference_urls=[served + file_url(photo.storage_key)])
    credits_before = client.credit_balance()

    task_id, _ = client.submit("nanobanana", request)
    assert client.poll("nanobanana", task_id).state == "waiting"
    worker()
    outcome = client.poll("nanobanana", task_id)

    assert outcome.state == "done", outcome.error
    [url] = outcome.image_urls
    result = Image.open(io.BytesIO(outbound.fetch(url, max_bytes=50_000_000)))
    assert abs(result.width / result.height - 4 / 3) < 0.01
    assert client.credit_balance() == credits_before - 4  # run on the AI model the API promises (fal, 4 credits)
    assert db.session.get(Generation, task_id).reference_image_ids == [photo.id]


@pytest.mark.skipif(bool(os.environ.get("TEST_DATABASE_URL")), reason="SQLite's own locking")
def test_a_database_too_busy_to_write_is_code_455_with_retry_after(app, nb, config):
    app.config["SQLITE_LOCK_WAIT"] = 0.2
    other = sqlite3.connect(config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///"), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process holds the write lock throughout
    try:
        response = nb.post(GENERATE, json={"prompt": "a house at dusk"})
    finally:
        other.execute("ROLLBACK")
        other.close()

    assert response.status_code == 200 and response.headers["Retry-After"] == "2"
    assert response.get_json()["code"] == 455
    assert generation_count() == 0


def test_an_unexpected_error_is_code_500_without_details(nb, monkeypatch):
    def broken(*_args, **_kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(nanobanana_service, "get_task", broken)

    answer = call(nb, RECORD, query_string={"taskId": "x"})

    assert answer == {"code": 500, "msg": "Something went wrong on our side; it has been logged.", "data": None}


# Callbacks, delivered by the webhooks feature's jobs to a receiver on 127.0.0.1 that checks the signature.

def test_a_finished_task_is_called_back_in_that_apis_shape_signed(nb, client, worker, receiver):
    task_id = generate(nb, prompt="brighten this room", type="IMAGETOIAMGE", imageUrls=[data_uri()],
                       callBackUrl=receiver.url)

    worker()

    [received] = receiver.received
    assert received.verified
    payload = received.payload
    assert (payload["code"], payload["msg"]) == (200, "Image generated successfully.")
    assert payload["data"]["taskId"] == task_id
    url = payload["data"]["info"]["resultImageUrl"]
    parts = urlsplit(url)
    assert parts.scheme == "http" and parts.path.startswith("/files/projects/") and "sig=" in parts.query
    assert client.get(f"{parts.path}?{parts.query}").status_code == 200
    assert payload["data"]["info"]["resultImageUrls"] == [url]
    delivery = db.session.scalar(sa.select(WebhookDelivery))
    assert (delivery.surface, delivery.generation_id, delivery.id) == ("nanobanana", task_id, received.webhook_id)


def test_a_content_filter_refusal_is_called_back_with_code_400(nb, worker, fal_connected, fal_queue, project):
    fal_queue.script(error="content_policy_violation")
    with WebhookReceiver(secret=project.webhook_secret) as receiver:
        task_id = generate(nb, prompt="something the filter refuses", callbackUrl=receiver.url)
        worker()

    [received] = receiver.received
    assert received.verified
    assert received.payload["code"] == 400 and "safety filter" in received.payload["msg"]
    assert received.payload["data"] == {"taskId": task_id, "info": {}}


def test_a_task_without_a_callback_url_sends_nothing(nb, worker, receiver):
    generate(nb, prompt="a house at dusk")
    worker()
    assert receiver.received == [] and db.session.scalar(sa.select(sa.func.count(WebhookDelivery.id))) == 0
