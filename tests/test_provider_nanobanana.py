"""The nanobanana adapter against a stand-in that speaks nanobananaapi.ai's documented wire format over HTTP."""
import json
import socket
import threading
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from app.providers.base import ProviderError, ProviderRefused, ProviderRequest
from app.providers.nanobanana import NanobananaProvider
from tests.factories import photo_bytes
from tests.upstreams.nanobanana import API_KEY, RESULT_COLOR

PUBLIC_BASE = "https://photos.example.com/studio"


class LocalSite:
    """A small web site on 127.0.0.1: serves photos (for nanobanana to fetch) and records POSTs (callbacks)."""

    def __init__(self):
        self.files: dict[str, bytes] = {}
        self.gets: list[str] = []
        self.posts: list[dict] = []
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                site.gets.append(self.path)
                data = site.files.get(self.path)
                self.send_response(200 if data else 404)
                self.send_header("Content-Length", str(len(data or b"")))
                self.end_headers()
                self.wfile.write(data or b"")

            def do_POST(self):
                site.posts.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def site():
    site = LocalSite()
    site.files["/files/kitchen.jpg"] = photo_bytes("kitchen_02.jpg")
    yield site
    site.close()


@pytest.fixture
def provider(app, nanobanana_upstream):
    app.config.update(
        PROVIDER_POLL_INTERVAL=0.01, PROVIDER_POLL_MAX=0.05,
        OUTBOUND_ALLOWLIST=("127.0.0.1",), PUBLIC_BASE_URL=PUBLIC_BASE,
    )
    return NanobananaProvider(API_KEY, nanobanana_upstream.base_url, timeout=5)


def text_request(**fields) -> ProviderRequest:
    return ProviderRequest(kind="text_to_image", prompt="A sunny front porch with potted plants", **fields)


def edit_request(site, **fields) -> ProviderRequest:
    return ProviderRequest(
        kind="edit", prompt="Stage this kitchen with bar stools", reference_ids=["img-1"],
        reference_urls=[site.url("/files/kitchen.jpg")], **fields,
    )


def nothing(*_args):
    pass


def settle_when_waiting(upstream, settle):
    """A progress report that settles the task once the adapter has seen it still generating."""

    def report(_done, _total, message):
        if message == "Generating at nanobanana":
            settle(upstream.only_task())

    return report


def test_edit_submits_exactly_the_documented_json(provider, nanobanana_upstream, site):
    task_id, outcome = provider.submit("nanobanana", edit_request(site, aspect_ratio="4:3", num_images=2))

    (call,) = nanobanana_upstream.calls("/api/v1/nanobanana/generate")
    assert call.body == {
        "prompt": "Stage this kitchen with bar stools",
        "type": "IMAGETOIAMGE",
        "callBackUrl": "https://photos.example.com/studio/webhooks/nanobanana",
        "numImages": 2,
        "imageUrls": [site.url("/files/kitchen.jpg")],
        "image_size": "4:3",
    }
    assert call.headers["authorization"] == f"Bearer {API_KEY}"
    assert (task_id, outcome) == (nanobanana_upstream.only_task().id, None)
    # The upstream downloaded the photo from the URL it was given, as the real service does.
    assert nanobanana_upstream.only_task().fetched == [(site.url("/files/kitchen.jpg"), 200)]
    assert site.gets == ["/files/kitchen.jpg"]


def test_text_to_image_submits_the_text_type_without_image_urls(provider, nanobanana_upstream):
    provider.submit("nanobanana", text_request())

    (call,) = nanobanana_upstream.calls("/api/v1/nanobanana/generate")
    assert call.body["type"] == "TEXTTOIAMGE"
    assert "imageUrls" not in call.body and "image_size" not in call.body
    assert call.body["callBackUrl"] == f"{PUBLIC_BASE}/webhooks/nanobanana"


def test_edit_without_reference_urls_is_refused_before_anything_is_sent(provider, nanobanana_upstream, site):
    with pytest.raises(ProviderError, match="no public URL"):
        provider.submit("nanobanana", replace(edit_request(site), reference_urls=[]))
    assert nanobanana_upstream.requests == []


def test_run_remembers_the_task_before_waiting_and_downloads_the_decoded_result(provider, nanobanana_upstream, site):
    remembered = []

    def remember(task_id):
        remembered.append((task_id, len(nanobanana_upstream.calls("/api/v1/nanobanana/record-info"))))

    report = settle_when_waiting(nanobanana_upstream, lambda task: task.succeed())
    result = provider.run(edit_request(site, aspect_ratio="4:3"), report, remember)

    task = nanobanana_upstream.only_task()
    assert remembered == [(task.id, 0)]
    flags = [body["data"]["successFlag"] for path, body in nanobanana_upstream.answers if path.endswith("record-info")]
    assert flags == [0, 1]
    (image,) = result.images
    assert image.size == (128, 96) and not result.placeholder
    assert all(abs(a - b) < 8 for a, b in zip(image.convert("RGB").getpixel((60, 40)), RESULT_COLOR))


def test_resume_with_an_upstream_id_polls_without_submitting_again(provider, nanobanana_upstream, site):
    task_id, _ = provider.submit("nanobanana", edit_request(site))
    nanobanana_upstream.only_task().succeed()
    remembered = []

    result = provider.run(replace(edit_request(site), upstream_id=task_id), nothing, remembered.append)

    assert len(nanobanana_upstream.calls("/api/v1/nanobanana/generate")) == 1
    assert remembered == [] and len(result.images) == 1


def test_the_lasting_result_url_is_used_not_the_ten_minute_original(provider, nanobanana_upstream):
    def succeed_with_expired_origin(task):
        task.succeed()
        task.expire("origin")

    report = settle_when_waiting(nanobanana_upstream, succeed_with_expired_origin)
    result = provider.run(text_request(), report, nothing)

    assert len(result.images) == 1


@pytest.mark.parametrize("flag, stage", [(2, "could not start the task"), (3, "could not generate the image")])
def test_failed_tasks_are_final_with_the_upstream_message(provider, nanobanana_upstream, flag, stage):
    nanobanana_upstream.finish_new_tasks(flag, "Your prompt was flagged by the content policy")

    with pytest.raises(ProviderError) as raised:
        provider.run(text_request(), nothing, nothing)

    assert raised.value.message == f"nanobanana {stage}: Your prompt was flagged by the content policy"
    assert not raised.value.retryable


def test_a_photo_nanobanana_cannot_download_fails_the_task(provider, nanobanana_upstream, site):
    request = replace(edit_request(site), reference_urls=[site.url("/files/gone.jpg")])

    with pytest.raises(ProviderError, match="could not start the task: Failed to download"):
        provider.run(request, nothing, nothing)
    assert nanobanana_upstream.only_task().fetched == [(site.url("/files/gone.jpg"), 404)]


def test_out_of_credits_on_http_200_is_final_and_tells_an_admin(provider, nanobanana_upstream):
    nanobanana_upstream.answer_next(402, "Credits insufficient")

    with pytest.raises(ProviderError) as raised:
        provider.run(text_request(), nothing, nothing)

    assert raised.value.message == "The nanobanana account is out of credits; an admin needs to top it up."
    assert (raised.value.code, raised.value.retryable) == ("provider_out_of_credits", False)


@pytest.mark.parametrize("code", [404, 422, 501, 505])
def test_other_documented_refusals_are_final(provider, nanobanana_upstream, code):
    nanobanana_upstream.answer_next(code, "the upstream's reason")

    with pytest.raises(ProviderError) as raised:
        provider.submit("nanobanana", text_request())

    assert not raised.value.retryable and "nanobanana" in raised.value.message


@pytest.mark.parametrize("code", [429, 455, 500])
def test_busy_maintenance_and_server_errors_are_retryable(provider, nanobanana_upstream, code):
    nanobanana_upstream.answer_next(code)

    with pytest.raises(ProviderError) as raised:
        provider.submit("nanobanana", text_request())

    assert raised.value.retryable


def test_a_transient_error_while_polling_is_retryable(provider, nanobanana_upstream):
    task_id, _ = provider.submit("nanobanana", text_request())
    nanobanana_upstream.answer_next(500, "Internal error")

    with pytest.raises(ProviderError) as raised:
        provider.poll("nanobanana", task_id)

    assert raised.value.retryable


@pytest.mark.parametrize("http_status", [200, 401])
def test_a_refused_key_is_final_and_never_printed(app, nanobanana_upstream, http_status):
    secret = "sk-live-do-not-print-4411"
    if http_status == 200:
        provider = NanobananaProvider(secret, nanobanana_upstream.base_url)
    else:  # a gateway in front may also say so with the HTTP status
        provider = NanobananaProvider(API_KEY, nanobanana_upstream.base_url)
        nanobanana_upstream.answer_next(401, f"bad key {secret}", http_status=401)

    with pytest.raises(ProviderError) as raised:
        provider.submit("nanobanana", text_request())

    assert not raised.value.retryable and "administrator" in raised.value.message
    assert secret not in raised.value.message and API_KEY not in raised.value.message


def test_an_unreachable_upstream_is_retryable(app):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    provider = NanobananaProvider(API_KEY, f"http://127.0.0.1:{closed_port}", timeout=2)

    with pytest.raises(ProviderError) as raised:
        provider.submit("nanobanana", text_request())

    assert (raised.value.code, raised.value.retryable) == ("provider_unreachable", True)


def test_an_answer_over_the_size_cap_is_not_parsed(provider, nanobanana_upstream):
    nanobanana_upstream.answer_next(200, "x" * (1024 * 1024 + 10))

    with pytest.raises(ProviderError, match="too large"):
        provider.submit("nanobanana", text_request())


def test_check_refuses_what_the_model_does_not_offer(provider, site):
    provider.check(edit_request(site, aspect_ratio="21:9", num_images=4))
    provider.check(text_request(aspect_ratio="7:5"))  # issue 21: made at the nearest ratio offered, then cropped
    assert provider.frame_ratio(text_request(aspect_ratio="7:5")) == "4:3"
    with pytest.raises(ProviderRefused, match="1K, not 2K"):
        provider.check(text_request(resolution="2K"))
    with pytest.raises(ProviderRefused, match="at most 4 images"):
        provider.check(text_request(num_images=5))


def test_credit_balance_reads_the_account_credits(provider, nanobanana_upstream):
    nanobanana_upstream.credits = 512.5

    assert provider.credit_balance() == 512.5
    (call,) = nanobanana_upstream.calls("/api/v1/common/credit")
    assert call.headers["authorization"] == f"Bearer {API_KEY}"


def test_the_upstream_posts_the_documented_callback_again_and_late(provider, nanobanana_upstream, site):
    task_id, _ = provider.submit("nanobanana", text_request())
    task = nanobanana_upstream.only_task()
    task.succeed()

    statuses = [nanobanana_upstream.send_callback(task_id, site.url("/webhooks/nanobanana")) for _ in range(2)]
    task.expire()
    statuses.append(nanobanana_upstream.send_callback(task_id, site.url("/webhooks/nanobanana")))

    assert statuses == [200, 200, 200]
    expected = {"code": 200, "msg": "Image generated successfully.",
                "data": {"taskId": task_id, "info": {"resultImageUrl": nanobanana_upstream.result_url(task)}}}
    assert site.posts == [expected] * 3


def test_a_generation_runs_through_nanobanana_end_to_end(app, project, worker, nanobanana_upstream, provider):
    from app.extensions import db
    from app.generations.models import Generation, GenerationStatus
    from app.generations.service import create_generation
    from app.generations.spec import GenerationSpec

    app.extensions["providers"] = {"nanobanana": provider}
    nanobanana_upstream.finish_new_tasks(1)
    generation = create_generation(project, GenerationSpec(prompt="A sunny front porch", provider="nanobanana"))
    db.session.commit()

    worker()

    db.session.expire_all()
    generation = db.session.get(Generation, generation.id)
    assert generation.status is GenerationStatus.SUCCEEDED
    assert generation.upstream_request_id == nanobanana_upstream.only_task().id
