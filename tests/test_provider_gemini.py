"""The Gemini adapter against a real HTTP server speaking Gemini's documented generateContent format."""
import base64
import io
import threading

import pytest
from PIL import Image

from app.extensions import db
from app.generations.models import GenerationStatus
from app.generations.service import create_generation
from app.generations.spec import GenerationSpec
from app.providers.base import ProviderError, ProviderRefused, ProviderRequest
from app.providers.gemini import FLASH, PRO, GeminiProvider
from app.providers.registry import get_provider
from tests import factories
from tests.upstreams import gemini as upstream_answers

PROMPT = "Virtually stage this empty living room with modern furniture."


@pytest.fixture
def config(config, gemini_upstream):
    """The test app with a Gemini key and the local Gemini server as its base URL."""
    return {**config, "GEMINI_API_KEY": gemini_upstream.api_key, "GEMINI_BASE_URL": gemini_upstream.base_url}


@pytest.fixture
def gemini(app):
    return get_provider("gemini")


def photo(size=(800, 600), colour=(120, 140, 160)) -> Image.Image:
    return Image.new("RGB", size, colour)


def edit(model=FLASH, references=1, **fields) -> ProviderRequest:
    """An edit of `references` photos with the given model."""
    return ProviderRequest(
        kind="edit", prompt=PROMPT, model=model,
        reference_ids=[f"ref-{n}" for n in range(references)], references=[photo() for _ in range(references)],
        **fields,
    )


class Run:
    """Runs the adapter as the job does, keeping what it reported and remembered."""

    def __init__(self, provider):
        self.provider, self.reports, self.remembered = provider, [], []

    def __call__(self, request):
        return self.provider.run(request, lambda *step: self.reports.append(step), self.remembered.append)


def failure_of(provider, request) -> ProviderError:
    with pytest.raises(ProviderError) as raised:
        Run(provider)(request)
    return raised.value


def test_registered_from_its_key_with_the_two_documented_models(gemini):
    assert isinstance(gemini, GeminiProvider)
    assert (gemini.name, gemini.label) == ("gemini", "Google Gemini")
    assert sorted(gemini.models) == ["gemini-2.5-flash-image", "gemini-3-pro-image-preview"]


def test_edit_request_is_the_documented_generate_content_body(gemini, gemini_upstream):
    Run(gemini)(edit(FLASH, aspect_ratio="4:3", resolution="1K"))

    [sent] = gemini_upstream.requests
    assert sent.path == "/v1beta/models/gemini-2.5-flash-image:generateContent"
    assert sent.headers["x-goog-api-key"] == gemini_upstream.api_key
    assert "key" not in sent.query
    [content] = sent.body["contents"]
    text, image = content["parts"]
    assert text == {"text": PROMPT}
    assert set(image) == {"inline_data"} and image["inline_data"]["mime_type"] == "image/jpeg"
    reference = Image.open(io.BytesIO(base64.b64decode(image["inline_data"]["data"])))
    assert (reference.format, reference.size) == ("JPEG", (800, 600))
    # Flash has one size: imageSize is for Gemini 3 image models only.
    assert sent.body["generationConfig"] == {
        "responseModalities": ["TEXT", "IMAGE"], "imageConfig": {"aspectRatio": "4:3"},
    }


def test_pro_model_is_sent_image_size_and_returns_that_size(gemini, gemini_upstream):
    result = Run(gemini)(edit(PRO, aspect_ratio="16:9", resolution="2K"))

    [sent] = gemini_upstream.requests
    assert sent.path == "/v1beta/models/gemini-3-pro-image-preview:generateContent"
    assert sent.body["generationConfig"]["imageConfig"] == {"aspectRatio": "16:9", "imageSize": "2K"}
    assert [image.size for image in result.images] == [(2688, 1536)]


def test_text_to_image_sends_the_prompt_alone_and_no_image_config(gemini, gemini_upstream):
    result = Run(gemini)(ProviderRequest(kind="text_to_image", prompt="A bright kitchen at dawn", model=FLASH))

    [sent] = gemini_upstream.requests
    assert sent.body["contents"] == [{"parts": [{"text": "A bright kitchen at dawn"}]}]
    assert sent.body["generationConfig"] == {"responseModalities": ["TEXT", "IMAGE"]}
    assert [image.size for image in result.images] == [(1024, 1024)]


def test_run_returns_one_decoded_image_of_the_requested_shape_without_an_upstream_id(gemini):
    run = Run(gemini)
    result = run(edit(FLASH, aspect_ratio="16:9"))

    [image] = result.images
    assert image.size == (1344, 768)
    assert image.getpixel((5, 5)) == upstream_answers.FINAL_COLOUR
    assert result.placeholder is False
    assert run.remembered == []  # one-shot: nothing to resume
    assert run.reports[0] == (0, 4, "Sending to Google Gemini")


def test_thought_images_are_skipped_and_the_final_image_is_returned(gemini, gemini_upstream):
    gemini_upstream.thoughts = True
    result = Run(gemini)(edit(PRO, aspect_ratio="1:1", resolution="1K"))

    [image] = result.images
    assert image.size == (1024, 1024)
    assert image.getpixel((5, 5)) == upstream_answers.FINAL_COLOUR


def test_a_thought_draft_is_never_the_result_when_the_final_image_is_refused(gemini, gemini_upstream):
    gemini_upstream.thoughts = True
    gemini_upstream.answer_next(upstream_answers.finished("IMAGE_SAFETY"))
    error = failure_of(gemini, edit(PRO))

    assert (error.code, error.retryable) == ("content_policy", False)
    assert upstream_answers.THOUGHT_TEXT not in error.message


@pytest.mark.parametrize(
    "answer, code, words",
    [
        (upstream_answers.blocked("PROHIBITED_CONTENT"), "content_policy", ["declined", "PROHIBITED_CONTENT", "Try"]),
        (upstream_answers.finished("IMAGE_SAFETY"), "content_policy", ["declined", "IMAGE_SAFETY", "Try"]),
        (upstream_answers.finished("IMAGE_PROHIBITED_CONTENT"), "content_policy", ["IMAGE_PROHIBITED_CONTENT"]),
        (upstream_answers.finished("NO_IMAGE"), "no_image", ["without an image", "NO_IMAGE"]),
        (upstream_answers.text_only("I can't edit photos of people."), "no_image",
         ['Gemini said: "I can\'t edit photos of people."']),
        (upstream_answers.finished("IMAGE_SAFETY", "This image may violate our policy."), "content_policy",
         ["IMAGE_SAFETY", "This image may violate our policy."]),
    ],
)
def test_refusals_are_final_with_a_message_for_a_person(gemini, gemini_upstream, answer, code, words):
    gemini_upstream.answer_next(answer)
    error = failure_of(gemini, edit())

    assert (error.code, error.retryable) == (code, False)
    for word in words:
        assert word in error.message


def test_invalid_argument_is_final_and_passes_googles_reason_on(gemini, gemini_upstream):
    gemini_upstream.answer_next(upstream_answers.invalid_argument("Unable to process input image."))
    error = failure_of(gemini, edit())

    assert (error.code, error.retryable) == ("invalid_request", False)
    assert "Unable to process input image." in error.message


def test_rate_limit_is_retryable_and_keeps_googles_advice(gemini, gemini_upstream):
    gemini_upstream.answer_next(upstream_answers.rate_limited(retry_after=7))
    error = failure_of(gemini, edit())

    assert (error.code, error.retryable, error.retry_after) == ("rate_limited", True, 7.0)
    assert "wait 7 seconds" in error.message


def test_rate_limit_without_header_reads_retry_info(gemini, gemini_upstream):
    gemini_upstream.answer_next(upstream_answers.rate_limited(retry_after=38, header=False))
    assert failure_of(gemini, edit()).retry_after == 38.0


@pytest.mark.parametrize("status", [500, 503, 504])
def test_server_errors_are_retryable(gemini, gemini_upstream, status):
    gemini_upstream.answer_next(upstream_answers.server_error(status))
    error = failure_of(gemini, edit())

    assert (error.code, error.retryable) == ("provider_unavailable", True)
    assert f"HTTP {status}" in error.message


def test_a_500_then_success_yields_the_image_on_the_next_attempt(gemini, gemini_upstream):
    gemini_upstream.answer_next(upstream_answers.server_error(500))
    assert failure_of(gemini, edit()).retryable

    result = Run(gemini)(edit(aspect_ratio="3:2"))
    assert [image.size for image in result.images] == [(1248, 832)]
    assert len(gemini_upstream.requests) == 2


def test_unauthenticated_is_final_tells_an_admin_and_never_shows_the_key(gemini, gemini_upstream):
    key = gemini_upstream.api_key
    gemini_upstream.answer_next(upstream_answers.error(401, "UNAUTHENTICATED", f"Invalid API key: {key}"))
    error = failure_of(gemini, edit())

    assert (error.code, error.retryable) == ("provider_auth", False)
    assert "administrator" in error.message and key not in error.message


def test_a_wrong_key_gets_api_key_invalid_and_a_message_for_an_admin(app, gemini_upstream):
    wrong = GeminiProvider("not-the-key-4711", gemini_upstream.base_url)
    error = failure_of(wrong, edit())

    assert gemini_upstream.requests[0].headers["x-goog-api-key"] == "not-the-key-4711"
    assert (error.code, error.retryable) == ("provider_auth", False)
    assert "check the Gemini connection" in error.message and "not-the-key-4711" not in error.message


def test_a_slow_answer_keeps_the_request_open_until_gemini_answers(app, gemini, gemini_upstream):
    release, outcome = threading.Event(), {}
    gemini_upstream.answer_next(upstream_answers.held(release))
    run = Run(gemini)

    def in_worker():
        with app.app_context():
            outcome["result"] = run(edit(aspect_ratio="4:5"))

    worker = threading.Thread(target=in_worker)
    worker.start()
    try:
        assert gemini_upstream.entered.wait(30), "the request never reached the server"
        assert run.reports == [(0, 4, "Sending to Google Gemini")] and worker.is_alive()
    finally:
        release.set()
        worker.join(30)
    assert [image.size for image in outcome["result"].images] == [(896, 1152)]


def test_no_answer_within_the_read_timeout_is_retryable(app, gemini_upstream):
    release = threading.Event()
    gemini_upstream.answer_next(upstream_answers.held(release))
    # The server answers only after `release`, so this timeout always passes first.
    impatient = GeminiProvider(gemini_upstream.api_key, gemini_upstream.base_url, read_timeout=0.2)
    try:
        error = failure_of(impatient, edit())
    finally:
        release.set()
    assert (error.code, error.retryable) == ("timeout", True)


def test_check_refuses_4k_on_flash_and_accepts_it_on_pro(gemini):
    with pytest.raises(ProviderRefused, match="offers 1K, not 4K"):
        gemini.check(edit(FLASH, resolution="4K"))
    gemini.check(edit(PRO, resolution="4K"))


def test_check_refuses_more_than_one_image_per_request(gemini):
    with pytest.raises(ProviderRefused, match="one image per request"):
        gemini.check(edit(num_images=2))


def test_check_holds_each_model_to_its_documented_reference_limit(gemini):
    with pytest.raises(ProviderRefused, match="at most 3 reference images"):
        gemini.check(edit(FLASH, references=4))
    gemini.check(edit(PRO, references=14))


def test_a_ratio_gemini_does_not_offer_is_made_at_its_nearest_one(gemini):
    """Was refused ('not 1.91:1'); issue 21: any well-formed ratio is made at the nearest offered and cropped."""
    gemini.check(edit(aspect_ratio="1.91:1"))
    assert gemini.frame_ratio(edit(aspect_ratio="1.91:1")) == "16:9"


def test_generation_through_the_job_stores_geminis_image(app, worker, gemini_upstream):
    project = factories.make_project(factories.make_user())
    image = factories.make_image(project)
    spec = GenerationSpec(prompt=PROMPT, references=[image.id], provider="gemini", model=FLASH, aspect_ratio="16:9")
    generation = create_generation(project, spec)
    db.session.commit()

    worker()

    db.session.refresh(generation)
    assert generation.status is GenerationStatus.SUCCEEDED, generation.error_message
    assert [output.width for output in generation.outputs] == [1344]
    assert gemini_upstream.requests[0].body["generationConfig"]["imageConfig"] == {"aspectRatio": "16:9"}
