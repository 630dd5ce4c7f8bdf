"""The sweep of issue 21: every surface × {no AI, one AI, all AI connected} × what a caller may ask.

Each answer is either exactly what was asked (the stored file's size and ratio, the provider seen in the
upstream stand-in's own request log, never a placeholder) or a refusal before any credit moved (no new ledger
row, no generation). A refusal is only right when nobody connected can do all of the request.
"""
import base64
import io
import threading
import time
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from PIL import Image as PILImage

from app.credits.models import CreditLedger
from app.errors import ApiError
from app.extensions import db
from app.generations.models import Generation, GenerationStatus
from app.images.models import Image
from app.images.storage import storage
from app.providers import registry
from app.studio.choices import Choice
from app.studio.service import apply_to_photos
from tests import factories
from tests.conftest import ApiClient
from tests.processes import HANG_GUARD
from tests.upstreams import gemini as gemini_module
from tests.upstreams import nanobanana as nanobanana_module
from tests.upstreams.fal import FalQueue
from tests.upstreams.gemini import GeminiUpstream
from tests.upstreams.nanobanana import NanobananaUpstream

PHOTO = "kitchen_02.jpg"
OFFLINE_PROMPT = "brighten the room"
BEYOND_OFFLINE = "brighter and add a vase of flowers"
PROMPT = "a calm, bright kitchen for the listing"


@dataclass(frozen=True)
class Ask:
    """What a caller asks for: a prompt, and a ratio or an exact size (None: the photo's own shape)."""

    name: str
    prompt: str = PROMPT
    ratio: str | None = None
    size: tuple[int, int] | None = None


ASKS = {
    "supported ratio": Ask("supported ratio", ratio="16:9"),
    "unsupported ratio": Ask("unsupported ratio", ratio="16:10"),
    "arbitrary size": Ask("arbitrary size", size=(1001, 999)),
    "offline-only prompt": Ask("offline-only prompt", prompt=OFFLINE_PROMPT),
    "beyond the offline engine": Ask("beyond the offline engine", prompt=BEYOND_OFFLINE),
}
# Surfaces documented as an AI model; the others may use the built-in engine when it was chosen or is all there is.
PROMISE_AI = {"fal", "pipelet", "nanobanana", "process-image"}


@pytest.fixture(scope="module")
def upstreams():
    """The three providers' stand-ins, shared by the module (each test reads only what it added to their logs)."""
    fal, gemini, nanobanana = FalQueue(key="test-fal-key"), GeminiUpstream(), NanobananaUpstream()
    fal.start(), gemini.start(), nanobanana.start()
    nanobanana.finish_new_tasks(1)
    yield {"fal": fal, "gemini": gemini, "nanobanana": nanobanana}
    for server in (fal, gemini, nanobanana):
        server.stop()


def connect(app, upstreams, state: str) -> None:
    """No AI service, fal alone, or all three (Gemini first in the order, so the sweep sees two services work)."""
    fal, gemini, nanobanana = upstreams["fal"], upstreams["gemini"], upstreams["nanobanana"]
    settings = {"FAL_KEY": "", "NANOBANANA_API_KEY": "", "GEMINI_API_KEY": "", "OUTBOUND_ALLOWLIST": ("127.0.0.1",),
                "PROVIDER_POLL_INTERVAL": 0.01, "PROVIDER_POLL_MAX": 0.05, "RETRY_BACKOFF": 0}
    if state in ("one", "all"):
        settings.update(FAL_KEY=fal.key, FAL_QUEUE_URL=fal.url)
    if state == "all":
        settings.update(NANOBANANA_API_KEY=nanobanana_module.API_KEY, NANOBANANA_BASE_URL=nanobanana.base_url,
                        GEMINI_API_KEY=gemini_module.API_KEY, GEMINI_BASE_URL=gemini.base_url,
                        PROVIDER_ORDER=("gemini", "fal", "nanobanana"))
    app.config.update(settings)
    registry.configure(app)


def data_uri() -> str:
    return "data:image/jpeg;base64," + base64.b64encode(factories.photo_bytes(PHOTO)).decode()


def ratio_text(ask: Ask) -> str | None:
    return ask.ratio or (f"{ask.size[0]}:{ask.size[1]}" if ask.size else None)


def as_a_ratio(ask: Ask) -> Ask:
    """The ask of a surface with no width and height: the size's ratio (1001:999), made exactly."""
    return Ask(ask.name, ask.prompt, ratio=ratio_text(ask)) if ask.size else ask


# Each surface, called the way its own clients call it: the generation id, or None when it refused.
def via_v1(client, key, project, worker, ask):
    photo = factories.make_image(project, PHOTO)
    body = {"prompt": ask.prompt, "referenceImages": [photo.id], "aspectRatio": ratio_text(ask)}
    response = ApiClient(client, key).post("/api/v1/generations", json={k: v for k, v in body.items() if v})
    return response.get_json()["data"]["id"] if response.status_code == 201 else None


def via_fal(client, key, project, worker, ask, path="/fal/queue/fal-ai/nano-banana-pro/edit"):
    body = {"prompt": ask.prompt, "image_urls": [data_uri()]}
    if ask.size:
        body.update(width=ask.size[0], height=ask.size[1])
    elif ask.ratio:
        body["aspect_ratio"] = ask.ratio
    response = client.post(path, json=body, headers={"Authorization": f"Key {key}"})
    return response.get_json()["request_id"] if response.status_code == 200 else None


def via_pipelet(client, key, project, worker, ask):
    return via_fal(client, key, project, worker, ask, path="/fal/queue/pipelet/z-image-image-edit")


def via_nanobanana(client, key, project, worker, ask):
    body = {"prompt": ask.prompt, "type": "IMAGETOIAMGE", "imageUrls": [data_uri()]}
    if ratio_text(ask):
        body["image_size"] = ratio_text(ask)
    answer = client.post("/api/v1/nanobanana/generate", json=body, headers={"Authorization": f"Bearer {key}"})
    return answer.get_json()["data"]["taskId"] if answer.get_json()["code"] == 200 else None


def via_process_image(client, key, project, worker, ask):
    api = ApiClient(client, key)
    photo = factories.make_image(project, PHOTO)
    record = api.post("/api/image-generations", json={"imageId": photo.id, "prompt": ask.prompt}).get_json()["data"]
    db.session.commit()
    answer = {}
    # The endpoint waits for its result: it runs on a thread while the worker runs here.
    thread = threading.Thread(target=lambda: answer.setdefault("r", api.post("/api/process-image",
                                                                             json={"imageId": record["id"]})))
    thread.start()
    deadline = time.monotonic() + HANG_GUARD
    while thread.is_alive():
        assert time.monotonic() < deadline, "process-image was not answered"
        worker()
        thread.join(0.05)
    if answer["r"].status_code >= 400:
        return None
    return db.session.scalar(sa.select(Generation.id).where(Generation.project_id == project.id))


def via_studio(client, key, project, worker, ask):
    photo = factories.make_image(project, PHOTO)
    user = factories.make_user()
    try:
        batch = apply_to_photos(project, user, Choice("Your instructions", "Apply", prompt=ask.prompt), [photo])
    except ApiError as refused:  # the page shows it; nothing is charged
        db.session.rollback()
        assert refused.status < 500
        return None
    db.session.commit()
    return db.session.scalar(sa.select(Generation.id).where(Generation.batch_id == batch.id))


SURFACES = {
    "v1": (via_v1, list(ASKS)),
    "fal": (via_fal, list(ASKS)),
    "pipelet": (via_pipelet, list(ASKS)),
    "nanobanana": (via_nanobanana, list(ASKS)),
    # No ratio or size on these: the photo keeps its shape, so the prompts are what they sweep.
    "process-image": (via_process_image, ["offline-only prompt", "beyond the offline engine"]),
    "studio": (via_studio, ["offline-only prompt", "beyond the offline engine"]),
}
# Surfaces that take an exact width and height (fal's queue, pipelet's extension); the others take ratios.
SIZED = {"fal", "pipelet"}
CASES = [
    pytest.param(surface, ask, state, id=f"{surface}-{ask}-{state}")
    for surface, (_call, asks) in SURFACES.items() for ask in asks for state in ("none", "one", "all")
]


def ledger_rows(workspace_id: int) -> int:
    return db.session.scalar(sa.select(sa.func.count(CreditLedger.id)).where(CreditLedger.workspace_id == workspace_id))


def upstream_log_sizes(upstreams) -> dict:
    return {"fal": len(upstreams["fal"].submissions), "gemini": len(upstreams["gemini"].requests),
            "nanobanana": len(upstreams["nanobanana"].calls("/api/v1/nanobanana/generate"))}


def refusal_expected(surface: str, ask: Ask, state: str) -> bool:
    """Nobody connected can do all of it: no AI and the surface promises one or the engine cannot do the prompt;
    or a ratio nanobanana's spec does not list (its image_size is an enumeration)."""
    if surface == "nanobanana" and ask.name in ("unsupported ratio", "arbitrary size"):
        return True
    if state != "none":
        return False
    return surface in PROMISE_AI or ask.prompt != OFFLINE_PROMPT


@pytest.mark.parametrize("surface, ask_name, state", CASES)
def test_each_answer_is_what_was_asked_or_a_refusal_before_any_credit_moved(
    app, client, project, worker, upstreams, surface, ask_name, state
):
    connect(app, upstreams, state)
    ask, (call, _asks) = ASKS[ask_name], SURFACES[surface]
    if surface not in SIZED:
        ask = as_a_ratio(ask)
    key = factories.make_api_key(project)
    db.session.commit()
    rows, logs = ledger_rows(project.workspace_id), upstream_log_sizes(upstreams)

    generation_id = call(client, key, project, worker, ask)

    if generation_id is None:
        assert refusal_expected(surface, ask, state), f"refused although {state} AI connected can do it"
        db.session.rollback()
        assert ledger_rows(project.workspace_id) == rows, "a refusal moved credits"
        assert db.session.scalar(sa.select(sa.func.count(Generation.id))) == 0
        return
    assert not refusal_expected(surface, ask, state), "accepted although nobody connected can do all of it"
    worker()
    db.session.expire_all()
    generation = db.session.get(Generation, generation_id)
    assert generation.status is GenerationStatus.SUCCEEDED, generation.error_message
    assert not generation.is_placeholder
    assert_provider_did_it(generation, surface, ask, state, upstreams, logs)
    assert_stored_file_is_as_asked(generation, ask)


def assert_provider_did_it(generation, surface, ask, state, upstreams, logs) -> None:
    """The provider that did it is the one promised, and its stand-in saw the request (with the caller's words)."""
    seen = {name: size - logs[name] for name, size in upstream_log_sizes(upstreams).items()}
    if generation.provider == "local":
        assert state == "none" and surface not in PROMISE_AI and ask.prompt == OFFLINE_PROMPT
        assert not any(seen.values()), "the built-in engine did it, yet a provider was called"
        return
    # fal-ai/nano-banana-pro/edit names fal's own model; the others go to the first service able in the order.
    expected = "fal" if state == "one" or surface == "fal" else "gemini"
    assert generation.provider == expected
    assert seen[expected] == 1, f"{expected}'s stand-in did not see the request"
    if expected == "fal":
        sent = upstreams["fal"].submissions[-1]["body"]["prompt"]
    else:
        sent = upstreams["gemini"].requests[-1].body["contents"][0]["parts"][0]["text"]
    assert ask.prompt in sent and generation.provider_prompt == sent


def assert_stored_file_is_as_asked(generation, ask) -> None:
    [output] = db.session.scalars(sa.select(Image).where(Image.generation_id == generation.id))
    stored = PILImage.open(io.BytesIO(storage().get(output.storage_key)))
    assert stored.size == (output.width, output.height)
    if ask.size:
        assert stored.size == ask.size
    elif ask.ratio:
        ratio_w, ratio_h = (int(part) for part in ask.ratio.split(":"))
        assert stored.width * ratio_h == stored.height * ratio_w, f"{stored.size} is not {ask.ratio}"
