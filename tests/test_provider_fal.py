"""The fal.ai adapter against a fal queue on 127.0.0.1 that speaks fal's documented wire format."""
import base64
import io
import threading
from dataclasses import replace

import pytest
from PIL import Image

from app.extensions import db
from app.generations.models import GenerationStatus
from app.generations.service import create_generation
from app.generations.spec import GenerationSpec
from app.imaging.io import load_photo
from app.providers import registry
from app.providers.base import ProviderError, ProviderRefused, ProviderRequest, StopRequested
from app.providers.fal import EDIT_MODEL, TEXT_MODEL, FalProvider
from tests import factories

KEY = "test-fal-key"


@pytest.fixture
def fal(app, fal_queue):
    app.config.update(PROVIDER_POLL_INTERVAL=0.01, PROVIDER_POLL_MAX=0.05, OUTBOUND_ALLOWLIST=("127.0.0.1",))
    return FalProvider(KEY, fal_queue.url, timeout=5)


@pytest.fixture
def photo():
    return load_photo(factories.photo_bytes("kitchen_02.jpg"), max_pixels=50_000_000).image


def edit_request(photo, **changes) -> ProviderRequest:
    request = ProviderRequest(kind="edit", prompt="Virtually stage this empty kitchen", reference_ids=["photo-1"],
                              references=[photo], model=EDIT_MODEL, aspect_ratio="4:3", resolution="1K")
    return replace(request, **changes)


class Watcher:
    """The job's side of a run: the progress it was told and the upstream id it was asked to remember."""

    def __init__(self, on_report=None):
        self.events: list[tuple[str, str]] = []
        self.on_report = on_report

    def report(self, done: int, total: int, message: str) -> None:
        self.events.append(("report", message))
        if self.on_report:
            self.on_report(message)

    def remember(self, upstream_id: str) -> None:
        self.events.append(("remember", upstream_id))

    @property
    def messages(self) -> list[str]:
        return [text for kind, text in self.events if kind == "report"]

    @property
    def remembered(self) -> list[str]:
        return [text for kind, text in self.events if kind == "remember"]


def decode_data_uri(uri: str) -> Image.Image:
    header, payload = uri.split(",", 1)
    assert header == "data:image/jpeg;base64"
    return Image.open(io.BytesIO(base64.b64decode(payload)))


def test_submit_sends_the_documented_input_to_the_model_path(fal, fal_queue, photo):
    upstream_id, outcome = fal.submit(EDIT_MODEL, edit_request(photo, num_images=2, resolution="2K"))

    [submission] = fal_queue.submissions
    assert submission["path"] == "/fal-ai/nano-banana-pro/edit"
    assert submission["headers"]["Authorization"] == f"Key {KEY}"
    body = submission["body"]
    assert list(body) == ["prompt", "image_urls", "num_images", "aspect_ratio", "resolution", "output_format"]
    assert body["prompt"] == "Virtually stage this empty kitchen"
    options = (body["num_images"], body["aspect_ratio"], body["resolution"], body["output_format"])
    assert options == (2, "4:3", "2K", "png")
    [reference] = body["image_urls"]
    assert decode_data_uri(reference).format == "JPEG"
    assert decode_data_uri(reference).size == photo.size
    # The id to remember is fal's response_url, on owner/app without the /edit subpath.
    request_id = next(iter(fal_queue.requests))
    assert upstream_id == f"{fal_queue.url}/fal-ai/nano-banana-pro/requests/{request_id}"
    assert outcome is None


def test_text_to_image_sends_no_references_and_a_landscape_default(fal, fal_queue):
    request = ProviderRequest(kind="text_to_image", prompt="A sunlit modern farmhouse kitchen", model=TEXT_MODEL,
                              resolution="4K")
    fal.submit(TEXT_MODEL, request)

    [submission] = fal_queue.submissions
    assert submission["path"] == "/fal-ai/nano-banana-pro"
    assert submission["body"] == {"prompt": "A sunlit modern farmhouse kitchen", "num_images": 1,
                                  "aspect_ratio": "4:3", "resolution": "4K", "output_format": "jpeg"}


@pytest.mark.parametrize("request_changes, refusal", [
    ({"reference_ids": [], "references": []}, "cannot make images from a prompt alone"),
    ({"model": TEXT_MODEL}, "cannot edit photos"),
    ({"resolution": "8K"}, "offers 1K, 2K, 4K, not 8K"),
    ({"num_images": 5}, "at most 4 images"),
])
def test_check_refuses_what_the_model_cannot_do(fal, photo, request_changes, refusal):
    with pytest.raises(ProviderRefused, match=refusal):
        fal.check(edit_request(photo, **request_changes))


def test_check_accepts_what_the_models_can_do(fal, photo):
    fal.check(edit_request(photo, aspect_ratio="16:9", resolution="4K", num_images=4))
    fal.check(ProviderRequest(kind="text_to_image", prompt="A cosy reading nook", model=TEXT_MODEL))


def test_run_follows_the_queue_and_downloads_the_images(fal, fal_queue, photo):
    fal_queue.script(queue_positions=(2, 0), progress_polls=2)
    watcher = Watcher()

    result = fal.run(edit_request(photo, num_images=2), watcher.report, watcher.remember)

    assert [image.size for image in result.images] == [(1024, 768), (1024, 768)]
    assert not result.placeholder
    assert "In fal's queue (position 2)" in watcher.messages
    assert "In fal's queue (position 0)" in watcher.messages
    assert "Generating at fal" in watcher.messages
    # The upstream id is remembered right after submitting, before any waiting is reported.
    [queued] = fal_queue.requests.values()
    assert watcher.events[:2] == [("report", "Sending to fal.ai"), ("remember", fal_queue.urls(queued)["response_url"])]
    # Status is read on fal's own URLs (owner/app, no subpath); downloads needed no key.
    assert fal_queue.status_polls
    assert all(path.startswith("/fal-ai/nano-banana-pro/requests/") for path in fal_queue.status_polls)
    assert [status for _, status in fal_queue.downloads] == [200, 200]


def test_resume_polls_the_remembered_request_without_submitting_again(fal, fal_queue, photo):
    request = edit_request(photo)
    upstream_id, _ = fal.submit(EDIT_MODEL, request)
    watcher = Watcher()

    result = fal.run(replace(request, upstream_id=upstream_id), watcher.report, watcher.remember)

    assert len(fal_queue.submissions) == 1
    assert watcher.remembered == []
    assert [image.size for image in result.images] == [(1024, 768)]


def test_a_busy_status_endpoint_is_waited_out(fal, fal_queue, photo):
    fal_queue.fail_next("status", 503, {"Retry-After": "0"})
    watcher = Watcher()

    result = fal.run(edit_request(photo), watcher.report, watcher.remember)

    assert len(result.images) == 1
    assert "fal.ai is busy; checking again shortly" in watcher.messages


@pytest.mark.parametrize("error_type, code, wording", [
    ("content_policy_violation", "content_policy", "safety filter blocked this request"),
    ("image_load_error", "invalid_input", "could not use a reference photo: Failed to load the image"),
    ("file_download_error", "invalid_input", "could not use a reference photo"),
])
def test_a_model_error_is_final_with_a_message_for_a_person(fal, fal_queue, photo, error_type, code, wording):
    fal_queue.script(error=error_type)
    watcher = Watcher()

    with pytest.raises(ProviderError) as failure:
        fal.run(edit_request(photo), watcher.report, watcher.remember)

    assert (failure.value.code, failure.value.retryable) == (code, False)
    assert wording in failure.value.message
    assert fal_queue.downloads == []


def test_a_rate_limited_submit_is_retryable_and_says_how_long_fal_asked_to_wait(fal, fal_queue, photo):
    fal_queue.fail_next("submit", 429, {"Retry-After": "7"}, {"detail": "Too many concurrent requests"})
    watcher = Watcher()

    with pytest.raises(ProviderError) as failure:
        fal.run(edit_request(photo), watcher.report, watcher.remember)

    assert (failure.value.code, failure.value.retryable) == ("rate_limited", True)
    assert "wait 7 s" in failure.value.message
    assert watcher.remembered == []


def test_a_server_error_on_submit_is_retryable_and_the_next_attempt_succeeds(fal, fal_queue, photo):
    fal_queue.fail_next("submit", 500)
    with pytest.raises(ProviderError) as failure:
        fal.run(edit_request(photo), Watcher().report, Watcher().remember)
    assert failure.value.retryable

    result = fal.run(edit_request(photo), Watcher().report, Watcher().remember)

    assert len(result.images) == 1
    assert len(fal_queue.submissions) == 2


def test_a_bad_key_is_final_and_the_message_never_shows_it(app, fal, fal_queue, photo):
    wrong = FalProvider("wrong-secret-4242", fal_queue.url, timeout=5)

    with pytest.raises(ProviderError) as failure:
        wrong.run(edit_request(photo), Watcher().report, Watcher().remember)

    assert (failure.value.code, failure.value.retryable) == ("provider_auth", False)
    assert "fal.ai connection" in failure.value.message
    assert "wrong-secret-4242" not in failure.value.message


class Canceled(StopRequested):
    """What the job's progress report raises when the person asked to stop."""


def test_cancel_while_waiting_cancels_the_request_at_fal(fal, fal_queue, photo):
    fal_queue.script(hold=threading.Event())  # stays queued until released: the run only stops by canceling

    def cancel_when_queued(message):
        if message.startswith("In fal's queue"):
            raise Canceled

    with pytest.raises(Canceled):
        fal.run(edit_request(photo), Watcher(cancel_when_queued).report, Watcher().remember)

    assert fal_queue.cancels == list(fal_queue.requests)
    assert fal_queue.downloads == []


def test_a_run_stopped_by_anything_but_a_cancel_leaves_the_request_at_fal_to_resume(fal, fal_queue, photo):
    fal_queue.script(hold=threading.Event())

    def time_out_when_queued(message):
        if message.startswith("In fal's queue"):
            raise TimeoutError("the job's time is up")

    with pytest.raises(TimeoutError):
        fal.run(edit_request(photo), Watcher(time_out_when_queued).report, Watcher().remember)

    assert fal_queue.cancels == []  # the next attempt resumes it


def test_an_expired_result_url_is_not_taken_as_a_result(fal, fal_queue, photo):
    def expire_before_download(message):
        if message == "Downloading the result":
            fal_queue.expire_files()

    with pytest.raises(Exception):
        fal.run(edit_request(photo), Watcher(expire_before_download).report, Watcher().remember)

    assert [status for _, status in fal_queue.downloads] == [404]


def test_urls_on_another_host_are_not_followed_with_our_key(fal, fal_queue):
    outcome = fal.poll(EDIT_MODEL, "https://elsewhere.example/fal-ai/nano-banana-pro/requests/abc")

    assert outcome.state == "failed"
    assert "another host" in outcome.error.message
    assert fal_queue.status_polls == []


def test_generation_job_runs_on_fal_and_keeps_the_result(app, project, worker, fal, fal_queue, monkeypatch):
    monkeypatch.setitem(registry.PROVIDERS, "fal", fal)
    image = factories.make_image(project)
    spec = GenerationSpec(prompt="Virtually stage this empty kitchen", references=[image.id], provider="fal",
                          model=EDIT_MODEL)
    generation = create_generation(project, spec)
    db.session.commit()

    worker()

    db.session.refresh(generation)
    assert generation.status is GenerationStatus.SUCCEEDED
    assert len(fal_queue.submissions) == 1
    assert generation.upstream_request_id == fal_queue.urls(next(iter(fal_queue.requests.values())))["response_url"]
    assert len(generation.outputs) == 1
