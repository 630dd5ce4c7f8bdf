"""The fal-style queue at /fal/queue/: codes and shapes of each endpoint, driven with the Flask test client."""
import base64
import json
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from app.compat.fal.serializers import webhook_payload
from app.credits import service as credits
from app.extensions import db
from app.generations import lifecycle
from app.generations.models import Generation, GenerationStatus
from app.images.models import Image
from app.images.storage import file_url
from app.providers import registry
from app.providers.base import ProviderResult
from app.urls import absolute
from tests import factories
from tests.upstreams import LocalServer

# These APIs are documented as an AI model: the fal.ai stand-in is connected to run it (issue 21).
pytestmark = pytest.mark.usefixtures("ai_model_connected")

EDIT = "/fal/queue/fal-ai/nano-banana-pro/edit"
TEXT = "/fal/queue/fal-ai/nano-banana-pro"
BASE = "http://localhost/fal/queue/fal-ai/nano-banana-pro"


def data_uri(name: str = "kitchen_02.jpg") -> str:
    return "data:image/jpeg;base64," + base64.b64encode(factories.photo_bytes(name)).decode()


class FalCaller:
    """The test client speaking as a fal client: Authorization: Key <key>."""

    def __init__(self, client, key: str, scheme: str = "Key"):
        self.client, self.headers = client, {"Authorization": f"{scheme} {key}"}

    def submit(self, path=EDIT, body=None, query="", headers=None):
        body = {"prompt": "brighten the room", "image_urls": [data_uri()]} if body is None else body
        return self.client.post(path + query, json=body, headers={**self.headers, **(headers or {})})

    def get(self, path, **kwargs):
        return self.client.get(path, headers=self.headers, **kwargs)

    def put(self, path):
        return self.client.put(path, headers=self.headers)


@pytest.fixture
def fal(client, project):
    return FalCaller(client, factories.make_api_key(project))


def submitted(fal, **kwargs) -> dict:
    response = fal.submit(**kwargs)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_submit_answers_absolute_urls_on_owner_and_app_without_the_subpath(fal):
    answer = submitted(fal)
    request_id = answer["request_id"]
    assert answer["response_url"] == f"{BASE}/requests/{request_id}"
    assert answer["status_url"] == f"{BASE}/requests/{request_id}/status"
    assert answer["cancel_url"] == f"{BASE}/requests/{request_id}/cancel"
    assert answer["queue_position"] == 0
    generation = db.session.get(Generation, request_id)
    # The model id promises Nano Banana Pro: even a prompt the built-in engine knows goes to it (issue 21).
    assert (generation.kind, generation.provider, generation.prompt) == ("edit", "fal", "brighten the room")


def test_queued_status_is_202_with_position_and_logs_null_unless_asked(fal):
    answer = submitted(fal)
    second = submitted(fal)
    response = fal.get(answer["status_url"])
    assert response.status_code == 202
    body = response.get_json()
    assert (body["status"], body["queue_position"], body["logs"]) == ("IN_QUEUE", 0, None)
    assert fal.get(second["status_url"]).get_json()["queue_position"] == 1
    assert body["statusMessages"]["message"] == "Progress: 0/0 Tasks done"
    assert fal.get(answer["status_url"] + "?logs=1").get_json()["logs"] == []


def test_result_is_400_until_done_then_the_images_with_signed_urls(fal, worker, client):
    answer = submitted(fal)
    early = fal.get(answer["response_url"])
    assert early.status_code == 400 and early.get_json()["status"] == "IN_QUEUE"

    worker()
    status = fal.get(answer["status_url"] + "?logs=true")
    assert status.status_code == 200
    body = status.get_json()
    assert body["status"] == "COMPLETED" and "error" not in body
    assert isinstance(body["metrics"]["inference_time"], float)
    assert body["logs"][0]["message"] == "Done"

    result = fal.get(answer["response_url"])
    assert result.status_code == 200
    [image] = result.get_json()["images"]
    assert image["url"].startswith("http://localhost/files/") and "sig=" in image["url"] and "expires=" in image["url"]
    assert image["content_type"] == "image/jpeg" and image["file_name"].endswith(".jpg")
    downloaded = client.get(image["url"])
    assert downloaded.status_code == 200 and len(downloaded.data) == image["file_size"]
    assert image["width"] > 0 and image["height"] > 0


def test_bearer_works_and_a_missing_key_is_401_in_fals_shape(client, project):
    assert FalCaller(client, factories.make_api_key(project), scheme="Bearer").submit().status_code == 200
    response = client.post(EDIT, json={"prompt": "brighten"})
    assert response.status_code == 401 and "API key" in response.get_json()["detail"]


def test_z_image_edit_adds_pipelets_image_link_and_results(fal, worker):
    answer = submitted(fal, path="/fal/queue/pipelet/z-image-image-edit")
    assert answer["status_url"].startswith("http://localhost/fal/queue/pipelet/z-image-image-edit/requests/")
    worker()
    body = fal.get(answer["response_url"]).get_json()
    assert body["image"]["data_uri"] == body["images"][0]["url"]  # pipelet's example: a signed download link
    assert body["image"]["file_name"] == body["images"][0]["file_name"]
    assert body["results"] == [body["images"][0]["url"]]


def own_url(app, image) -> str:
    """The signed URL our API hands out for an image (http://localhost/files/…)."""
    with app.test_request_context():
        return absolute(file_url(image.storage_key))


def test_preset_model_reuses_our_own_signed_file_url_without_fetching(app, fal, project):
    image = factories.make_image(project)
    images_before = db.session.query(Image).count()
    answer = submitted(fal, path="/fal/queue/stagecraft/enhance", body={"image_urls": [own_url(app, image)]})
    generation = db.session.get(Generation, answer["request_id"])
    assert (generation.preset, generation.reference_image_ids) == ("enhance", [image.id])
    assert db.session.query(Image).count() == images_before


def test_an_expired_own_link_is_refused(app, fal, project):
    image = factories.make_image(project)
    url = own_url(app, image).replace("sig=", "sig=0")
    response = fal.submit(path="/fal/queue/stagecraft/enhance", body={"image_urls": [url]})
    assert response.status_code == 422
    assert "expired" in response.get_json()["detail"][0]["msg"]


class PhotoHandler(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's name)
        data = factories.photo_bytes("bedroom_01.jpg")
        self.send_response(200)
        self.send_header("Content-Type", "image/jpeg")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *_args):
        pass


def test_other_urls_are_fetched_safely_only_from_allowed_hosts(app, fal):
    app.config["OUTBOUND_ALLOWLIST"] = ()  # as in production: no private address is allowed out
    with LocalServer(PhotoHandler) as server:
        refused = fal.submit(body={"prompt": "brighten", "image_urls": [f"{server.base_url}/photo.jpg"]})
        assert refused.status_code == 422
        detail = refused.get_json()["detail"][0]
        assert detail["loc"] == ["body", "image_urls"] and detail["type"] == "file_download_error"

        app.config["OUTBOUND_ALLOWLIST"] = ("127.0.0.1",)
        answer = submitted(fal, body={"prompt": "brighten", "image_urls": [f"{server.base_url}/photo.jpg"]})
    generation = db.session.get(Generation, answer["request_id"])
    [reference] = generation.reference_image_ids
    assert db.session.get(Image, reference).original_filename == "image_urls[0]"


def test_pipelet_extensions_map_onto_the_generation(fal):
    body = {"prompt": "brighten", "image_urls": [data_uri()], "width": "1600", "height": 1200, "priority": 5,
            "output_format": "png", "seed": 42}
    generation = db.session.get(Generation, submitted(fal, body=body)["request_id"])
    assert (generation.aspect_ratio, generation.resolution, generation.priority) == ("4:3", "2K", 5)
    assert generation.output_format == "png" and generation.meta["fal"]["seed"] == 42


def test_low_priority_header_of_the_official_client_is_honoured(fal):
    answer = submitted(fal, headers={"X-Fal-Queue-Priority": "low"})
    assert db.session.get(Generation, answer["request_id"]).priority == -1


@pytest.mark.parametrize(
    "body, field",
    [
        ({"prompt": "brighten", "image_urls": [data_uri()], "num_images": 9}, "num_images"),
        ({"prompt": "brighten", "image_urls": [data_uri()], "width": 800}, "height"),
        ({"prompt": "brighten", "image_urls": "not a list"}, "image_urls"),
        ({"prompt": "brighten"}, "image_urls"),
        ({"prompt": "brighten", "image_urls": ["data:image/jpeg;base64,bm90IGEgcGhvdG8="]}, "image_urls"),
        ({"prompt": "brighten", "image_urls": [data_uri()], "resolution": "8K"}, "resolution"),
    ],
)
def test_bad_input_is_422_with_fals_detail_list(fal, body, field):
    response = fal.submit(body=body)
    assert response.status_code == 422
    [detail] = response.get_json()["detail"]
    assert detail["loc"] == ["body", field] and detail["msg"]


def test_unknown_model_is_404_naming_the_models_offered(fal):
    response = fal.submit(path="/fal/queue/fal-ai/flux/dev")
    assert response.status_code == 404
    assert "fal-ai/nano-banana-pro/edit" in response.get_json()["detail"]
    assert fal.submit(path="/fal/queue/stagecraft/no-such-preset").status_code == 404


def disconnect_ai(app) -> None:
    """No AI service connected, as on a fresh install."""
    app.config["FAL_KEY"] = ""
    registry.configure(app)


def test_text_to_image_without_an_ai_service_is_a_clear_422(app, fal, project):
    disconnect_ai(app)
    balance = credits.balance(project.workspace_id)
    response = fal.submit(path=TEXT, body={"prompt": "a cottage at dusk"})
    assert response.status_code == 422
    assert "AI image service" in response.get_json()["detail"][0]["msg"]
    assert db.session.query(Generation).count() == 0 and credits.balance(project.workspace_id) == balance


def test_nano_banana_pro_runs_on_fal_when_its_key_is_set(app, fal, fal_queue, worker):
    app.config.update(FAL_KEY=fal_queue.key, FAL_QUEUE_URL=fal_queue.url, OUTBOUND_ALLOWLIST=("127.0.0.1",),
                      PROVIDER_POLL_INTERVAL=0.01, PROVIDER_POLL_MAX=0.05)
    registry.configure(app)
    answer = submitted(fal, path=TEXT, body={"prompt": "a cottage at dusk", "num_images": 2})
    generation = db.session.get(Generation, answer["request_id"])
    assert (generation.provider, generation.model, generation.num_images) == ("fal", "fal-ai/nano-banana-pro", 2)
    worker()
    assert len(fal.get(answer["response_url"]).get_json()["images"]) == 2


def test_content_policy_refusal_is_completed_with_error_and_a_422_result(fal):
    answer = submitted(fal)
    generation = db.session.get(Generation, answer["request_id"])
    lifecycle.start_generation(generation)
    lifecycle.fail_generation(generation, "content_policy", "The safety filter blocked this request. Rephrase it.")
    db.session.commit()

    status = fal.get(answer["status_url"])
    assert status.status_code == 200
    body = status.get_json()
    assert (body["status"], body["error_type"]) == ("COMPLETED", "content_policy_violation")
    assert body["error"].startswith("The safety filter")
    result = fal.get(answer["response_url"])
    assert result.status_code == 422
    assert result.get_json()["detail"] == [
        {"loc": ["body", "prompt"], "msg": body["error"], "type": "content_policy_violation"}
    ]


def test_cancel_of_a_queued_request_is_202_refunded_then_400_already_completed(fal, project):
    balance = credits.balance(project.workspace_id)
    answer = submitted(fal)
    assert credits.balance(project.workspace_id) < balance

    response = fal.put(answer["cancel_url"])
    assert (response.status_code, response.get_json()) == (202, {"status": "CANCELLATION_REQUESTED"})
    assert credits.balance(project.workspace_id) == balance
    status = fal.get(answer["status_url"]).get_json()
    assert (status["status"], status["error_type"]) == ("COMPLETED", "canceled")
    assert fal.get(answer["response_url"]).status_code == 400

    again = fal.put(answer["cancel_url"])
    assert (again.status_code, again.get_json()["status"]) == (400, "ALREADY_COMPLETED")


def test_cancel_after_it_finished_is_400(fal, worker):
    answer = submitted(fal)
    worker()
    response = fal.put(answer["cancel_url"])
    assert (response.status_code, response.get_json()["status"]) == (400, "ALREADY_COMPLETED")
    assert fal.get(answer["response_url"]).status_code == 200


def test_unknown_request_is_404(fal):
    missing = f"{BASE}/requests/00000000-0000-0000-0000-000000000000"
    assert fal.get(missing).status_code == 404
    assert fal.get(f"{missing}/status").status_code == 404
    assert fal.put(f"{missing}/cancel").get_json()["status"] == "NOT_FOUND"


def test_another_workspaces_requests_are_404_everywhere(fal, client):
    answer = submitted(fal)
    stranger = FalCaller(client, factories.make_api_key(factories.make_project(factories.make_user())))
    for path in (answer["status_url"], answer["response_url"], answer["status_url"] + "/stream"):
        response = stranger.get(path)
        assert response.status_code == 404 and response.get_json() == {"detail": "Request not found."}
    assert stranger.put(answer["cancel_url"]).status_code == 404
    assert db.session.get(Generation, answer["request_id"]).status is GenerationStatus.QUEUED


def test_status_stream_of_a_finished_request_sends_one_event_and_closes(fal, worker):
    answer = submitted(fal)
    worker()
    response = fal.get(answer["status_url"] + "/stream")
    assert response.status_code == 200 and response.mimetype == "text/event-stream"
    events = [line for line in response.get_data(as_text=True).split("\n\n") if line]
    assert len(events) == 1 and events[0].startswith("data: ")
    assert json.loads(events[0][len("data: "):])["status"] == "COMPLETED"


def test_fal_webhook_is_checked_and_stored_as_the_callback(app, fal):
    app.config["OUTBOUND_ALLOWLIST"] = ()  # as in production: no private address is allowed out
    refused = fal.submit(query="?fal_webhook=http://127.0.0.1:9/hook")
    assert refused.status_code == 422 and "fal_webhook" in refused.get_json()["detail"][0]["msg"]
    app.config["OUTBOUND_ALLOWLIST"] = ("127.0.0.1",)
    answer = submitted(fal, query="?fal_webhook=http://127.0.0.1:9/hook")
    assert db.session.get(Generation, answer["request_id"]).callback_url == "http://127.0.0.1:9/hook"


def test_fal_webhook_receives_fals_payload_signed(fal, worker, receiver):
    answer = submitted(fal, path="/fal/queue/pipelet/z-image-image-edit", query=f"?fal_webhook={receiver.url}")
    worker()

    [received] = receiver.received
    assert received.verified
    assert received.payload["request_id"] == answer["request_id"] and received.payload["status"] == "OK"
    assert received.payload["payload"]["images"][0]["url"].startswith("http")
    assert db.session.get(Generation, answer["request_id"]).surface == "fal"


def test_idempotency_key_replays_the_same_request(fal):
    first = submitted(fal, headers={"Idempotency-Key": "order-7"})
    second = submitted(fal, headers={"Idempotency-Key": "order-7"})
    assert first["request_id"] == second["request_id"]
    assert db.session.query(Generation).count() == 1


def test_webhook_payload_of_a_success_carries_the_output(fal, worker):
    answer = submitted(fal, path="/fal/queue/pipelet/z-image-image-edit")
    worker()
    generation = db.session.get(Generation, answer["request_id"])
    payload = webhook_payload(generation)
    assert (payload["request_id"], payload["gateway_request_id"], payload["status"]) == (
        generation.id, generation.id, "OK"
    )
    assert "error" not in payload
    assert payload["payload"]["images"][0]["url"].startswith("http")
    assert payload["payload"]["image"]["data_uri"] == payload["payload"]["images"][0]["url"]


def test_webhook_payload_of_a_refusal_is_an_error_with_fals_detail(fal):
    generation = db.session.get(Generation, submitted(fal)["request_id"])
    lifecycle.start_generation(generation)
    lifecycle.fail_generation(generation, "content_policy", "Blocked by the safety filter.")
    db.session.commit()
    payload = webhook_payload(generation)
    assert (payload["status"], payload["error"]) == ("ERROR", "Invalid status code: 422")
    assert payload["payload"]["detail"][0]["type"] == "content_policy_violation"


def test_webhook_payload_of_a_cancel_and_of_a_provider_failure(fal):
    canceled = db.session.get(Generation, submitted(fal)["request_id"])
    lifecycle.request_cancel(canceled)
    failed = db.session.get(Generation, submitted(fal)["request_id"])
    lifecycle.start_generation(failed)
    lifecycle.fail_generation(failed, "provider_error", "fal.ai answered 500.")
    db.session.commit()
    assert webhook_payload(canceled)["error"] == "Invalid status code: 400"
    failure = webhook_payload(failed)
    assert failure["error"] == "Invalid status code: 502"
    assert failure["payload"] == {"detail": "fal.ai answered 500.", "error_type": "downstream_service_error"}


def test_a_succeeded_result_lists_only_live_outputs(fal):
    generation = db.session.get(Generation, submitted(fal)["request_id"])
    lifecycle.start_generation(generation)
    lifecycle.complete_generation(generation, ProviderResult([]))
    db.session.commit()
    assert fal.get(f"{BASE}/requests/{generation.id}").get_json()["images"] == []


def test_an_unusable_photo_is_a_422_on_image_urls(fal):
    generation = db.session.get(Generation, submitted(fal)["request_id"])
    lifecycle.start_generation(generation)
    lifecycle.fail_generation(generation, "invalid_input", "The source photo could not be used: it is empty.")
    db.session.commit()
    result = fal.get(f"{BASE}/requests/{generation.id}")
    assert result.status_code == 422
    assert result.get_json()["detail"][0]["loc"] == ["body", "image_urls"]


def test_routing_errors_under_fal_have_fals_shape(fal):
    response = fal.get("/fal/queue/fal-ai/nano-banana-pro/edit")  # submit is POST only
    assert response.status_code == 405 and "detail" in response.get_json()


def test_a_refused_edit_leaves_no_stored_photo_behind(app, fal):
    disconnect_ai(app)
    response = fal.submit(body={"prompt": "turn the house into a castle", "image_urls": [data_uri()]})
    assert response.status_code == 422
    assert "AI image service" in response.get_json()["detail"][0]["msg"]
    assert db.session.query(Image).count() == 0
    assert not [path for path in Path(app.config["STORAGE_DIR"]).rglob("*") if path.is_file()]
