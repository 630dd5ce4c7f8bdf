"""AI providers end to end: the v1 API, a real worker, and each provider's stand-in on 127.0.0.1."""
import os
import signal
import threading
from datetime import timedelta

import psutil
import pytest
import sqlalchemy as sa

from app.credits.models import CreditLedger
from app.extensions import db
from app.generations.models import Generation, GenerationStatus
from app.imaging.overlay import DEFAULT_LABEL
from app.providers import registry, routing
from jobs.sweeper import sweep_generations
from tests.factories import make_image
from tests.processes import start_worker, stop_tree, wait_for
from tests.upstreams import gemini as gemini_upstream_module
from tests.upstreams import nanobanana as nanobanana_upstream_module
from tests.upstreams.fal import EDIT_MODEL

STAGING = {"prompt": "stage this living room, Scandinavian", "preset": "virtual-staging-scandinavian"}


@pytest.fixture
def connected(app, fal_queue, nanobanana_upstream, gemini_upstream):
    """All three AI services connected, as an administrator would with their keys, but on 127.0.0.1."""
    settings = {
        "FAL_KEY": fal_queue.key, "FAL_QUEUE_URL": fal_queue.url,
        "NANOBANANA_API_KEY": nanobanana_upstream_module.API_KEY, "NANOBANANA_BASE_URL": nanobanana_upstream.base_url,
        "GEMINI_API_KEY": gemini_upstream_module.API_KEY, "GEMINI_BASE_URL": gemini_upstream.base_url,
        "PROVIDER_POLL_INTERVAL": 0.01, "PROVIDER_POLL_MAX": 0.05, "OUTBOUND_ALLOWLIST": ("127.0.0.1",),
        "RETRY_BACKOFF": 0,
    }
    app.config.update(settings)
    registry.configure(app)
    return settings


def create(api_client, **body):
    response = api_client.post("/api/v1/generations", json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["data"]


def ledger(generation_id) -> list[str]:
    query = sa.select(CreditLedger.kind).where(CreditLedger.generation_id == generation_id).order_by(CreditLedger.id)
    return [kind.value for kind in db.session.scalars(query)]


def test_virtual_staging_on_fal_succeeds_end_to_end_with_the_disclosure_label(
    api_client, project, worker, connected, fal_queue
):
    body = {**STAGING, "referenceImages": [make_image(project, "living_01.jpg").id], "model": EDIT_MODEL}
    created = create(api_client, **body)
    assert (created["provider"], created["model"], created["cost"]) == ("fal", EDIT_MODEL, 4)

    worker()

    generation = db.session.get(Generation, created["id"])
    assert generation.status is GenerationStatus.SUCCEEDED, generation.error_message
    assert generation.watermark == DEFAULT_LABEL  # staging says so unless the agent turns it off
    [submission] = fal_queue.submissions
    assert submission["body"]["prompt"].startswith("stage this living room")
    assert submission["body"]["image_urls"][0].startswith("data:image/jpeg;base64,")
    assert ledger(generation.id) == ["reserve", "capture"]
    output = api_client.get(f"/api/v1/generations/{generation.id}").get_json()["data"]["outputImage"]
    assert output["url"].startswith("http://localhost/files/")


@pytest.mark.parametrize("model", ["nanobanana", "gemini-2.5-flash-image"])
def test_text_to_image_on_nanobanana_and_gemini_succeeds(api_client, worker, connected, nanobanana_upstream, model):
    nanobanana_upstream.finish_new_tasks(1)
    created = create(api_client, prompt="A sunny front porch with potted plants", model=model, aspectRatio="16:9")
    worker()
    generation = db.session.get(Generation, created["id"])
    assert generation.status is GenerationStatus.SUCCEEDED, generation.error_message
    assert generation.outputs[0].width > generation.outputs[0].height
    assert ledger(generation.id) == ["reserve", "capture"]


def test_ai_preset_without_a_model_goes_to_the_first_connected_service(api_client, project, connected):
    created = create(api_client, **STAGING, referenceImages=[make_image(project).id])
    assert created["provider"] == "fal" and created["model"] == EDIT_MODEL


def test_a_request_the_model_cannot_do_is_refused_before_credits_move(api_client, project, connected):
    before = api_client.get("/api/v1/generations").headers["X-Credits-Balance"]
    response = api_client.post(
        "/api/v1/generations", json={"prompt": "A porch", "model": "gemini-2.5-flash-image", "resolution": "4K"}
    )
    assert response.status_code == 400
    assert "1K" in response.get_json()["error"]["message"]
    assert api_client.get("/api/v1/generations").headers["X-Credits-Balance"] == before


def test_content_policy_refusal_fails_and_refunds(api_client, project, worker, connected, fal_queue):
    fal_queue.script(error="content_policy_violation")
    created = create(api_client, **STAGING, referenceImages=[make_image(project).id], model=EDIT_MODEL)
    worker()
    generation = db.session.get(Generation, created["id"])
    assert (generation.status, generation.error_code) == (GenerationStatus.FAILED, "content_policy")
    assert ledger(generation.id) == ["reserve", "refund"]
    assert len(fal_queue.submissions) == 1  # a refusal is final: no retry


def test_retryable_failure_falls_back_to_the_next_service(api_client, worker, connected, fal_queue, nanobanana_upstream):
    fal_queue.fail_next("submit", 503)
    nanobanana_upstream.finish_new_tasks(1)
    created = create(api_client, prompt="A modern kitchen with an island", model="fal-ai/nano-banana-pro")
    worker()
    generation = db.session.get(Generation, created["id"])
    assert generation.status is GenerationStatus.SUCCEEDED, generation.error_message
    assert (generation.provider, generation.model, generation.attempts) == ("nanobanana", "nanobanana", 2)
    assert ledger(generation.id) == ["reserve", "capture"]  # charged once, at the price first reserved


def test_a_service_that_keeps_failing_cools_down_and_is_skipped(app, api_client, connected):
    for _ in range(app.config["PROVIDER_FAILURE_THRESHOLD"]):
        routing.record_failure("fal")
    assert routing.is_cooling_down("fal") and not routing.is_cooling_down("nanobanana")
    created = create(api_client, prompt="A cosy reading nook")  # no model: routed past the cooling service
    assert created["provider"] == "nanobanana"


def test_duplicate_and_unknown_callbacks_change_nothing(api_client, client, worker, connected, nanobanana_upstream):
    nanobanana_upstream.finish_new_tasks(1)
    created = create(api_client, prompt="A garden at dusk", model="nanobanana")
    worker()
    task_id = db.session.get(Generation, created["id"]).upstream_request_id
    callback = {"code": 200, "msg": "success", "data": {"taskId": task_id, "info": {"resultImageUrl": "x"}}}
    assert client.post("/webhooks/nanobanana", json=callback).get_json() == {"code": 200, "msg": "success"}
    assert client.post("/webhooks/nanobanana", json=callback).status_code == 200
    unknown = {**callback, "data": {"taskId": "no-such-task"}}
    assert client.post("/webhooks/nanobanana", json=unknown).status_code == 404
    generation = db.session.get(Generation, created["id"])
    assert generation.status is GenerationStatus.SUCCEEDED and len(generation.outputs) == 1
    assert ledger(generation.id) == ["reserve", "capture"]


def test_worker_killed_while_waiting_on_fal_is_resumed_and_charged_once(app, config, project, worker, connected, fal_queue):
    hold = fal_queue.script(hold=threading.Event()).hold
    image = make_image(project)
    created = create_via_service(project, image)
    process = start_worker(config, **{name: _env(value) for name, value in connected.items()})
    try:
        wait_for(lambda: _upstream_id(created) is not None, "the worker to submit to fal")
        for child in psutil.Process(process.pid).children(recursive=True):
            os.kill(child.pid, signal.SIGKILL)
        os.kill(process.pid, signal.SIGKILL)
        process.wait(15)
    finally:
        stop_tree(process)
    overdue(app, created)
    assert sweep_generations()["retried"] == [created]
    hold.set()
    worker()

    generation = db.session.get(Generation, created)
    assert generation.status is GenerationStatus.SUCCEEDED, generation.error_message
    assert len(fal_queue.submissions) == 1  # resumed, not submitted (and paid for) again
    assert ledger(created) == ["reserve", "capture"]


def overdue(app, generation_id) -> None:
    """Move the lost attempt's start back past its deadline, as if the machine had been gone that long."""
    generation = db.session.get(Generation, generation_id)
    generation.started_at -= timedelta(seconds=app.config["JOB_TIMEOUT"] + app.config["ABANDON_GRACE"] + 1)
    db.session.commit()


def create_via_service(project, image) -> str:
    from app.generations.service import create_generation
    from app.generations.spec import GenerationSpec

    spec = GenerationSpec(**STAGING, references=[image.id], model=EDIT_MODEL)
    generation = create_generation(project, spec)
    db.session.commit()
    return generation.id


def _upstream_id(generation_id):
    db.session.expire_all()
    return db.session.get(Generation, generation_id).upstream_request_id


def _env(value) -> str:
    return ",".join(value) if isinstance(value, tuple) else str(value)


def test_admin_console_shows_each_service_its_state_and_account_credits(app, client, connected):
    from tests import factories

    admin = factories.make_user(role="admin")
    client.post("/login", data={"email": admin.email, "password": factories.PASSWORD})
    for _ in range(app.config["PROVIDER_FAILURE_THRESHOLD"]):
        routing.record_failure("gemini")
    page = client.get("/admin").get_data(as_text=True)
    gemini = page.split('data-service="gemini"')[1].split("</tr>")[0]
    assert "degraded" in gemini and "gemini-3-pro-image-preview" in gemini
    nanobanana = page.split('data-service="nanobanana"')[1].split("</tr>")[0]
    assert "working" in nanobanana and "—" not in nanobanana  # its account balance is shown


def test_a_result_in_another_shape_than_asked_is_cropped_to_the_ratio_ordered():
    from PIL import Image as PILImage

    from app.providers.base import ProviderRequest
    from app.providers.remote import as_asked

    square = PILImage.new("RGB", (1024, 1024), "white")
    wide = as_asked(square, ProviderRequest(kind="edit", prompt="x", aspect_ratio="16:9"))
    assert wide.size == (1024, 576)
    nearly = PILImage.new("RGB", (1344, 768), "white")  # Gemini's own 16:9 frame is close enough to keep
    assert as_asked(nearly, ProviderRequest(kind="edit", prompt="x", aspect_ratio="16:9")) is nearly
