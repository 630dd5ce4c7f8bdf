"""A full, unwritable or incomplete storage volume is an answer a person can act on, on every surface, never a 500.

"Full" is the kernel's own ENOSPC: with STORAGE_FAULT_DEVICE=/dev/full every storage write goes to /dev/full
through the real write path. "Unwritable" is STORAGE_DIR pointing at a regular file (chmod cannot stop root).
"""
import base64
import io
import os

import pytest
import sqlalchemy as sa

from app.credits import service as credits
from app.credits.models import CreditLedger
from app.extensions import db
from app.generations.models import Generation, GenerationStatus
from app.images.models import Image
from app.images.storage import storage
from tests import factories
from tests.conftest import ApiClient

pytestmark = pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full for a real ENOSPC")

PHOTO = "kitchen_02.jpg"
FULL = "Storage is full, so nothing was saved; ask your administrator"


@pytest.fixture
def disk_full(app):
    app.config["STORAGE_FAULT_DEVICE"] = "/dev/full"
    yield
    app.config.pop("STORAGE_FAULT_DEVICE")


def photo_file():
    return io.BytesIO(factories.photo_bytes(PHOTO)), PHOTO


def data_uri() -> str:
    return "data:image/jpeg;base64," + base64.b64encode(factories.photo_bytes(PHOTO)).decode()


def test_v1_upload_is_507_with_the_message(api_client, disk_full):
    response = api_client.post("/api/v1/images/upload", data={"file": photo_file()})
    assert response.status_code == 507
    assert response.get_json()["error"]["code"] == "storage_full"
    assert FULL in response.get_json()["error"]["message"]


def test_session_upload_is_507_in_the_sessions_shape(api_client, disk_full):
    session_id = api_client.post("/v1/sessions", json={}).get_json()["sessionId"]
    response = api_client.post(f"/v1/sessions/{session_id}/uploads", data={"files": photo_file()})
    assert response.status_code == 507
    body = response.get_json()
    assert body["success"] is False and FULL in body["error"]["message"]


def test_process_image_upload_is_507_in_its_shape(api_client, disk_full):
    response = api_client.post("/api/image-generations", data={"image": photo_file(), "prompt": "brighten"})
    assert response.status_code == 507
    body = response.get_json()
    assert body["success"] is False and body["code"] == "storage_full" and FULL in body["error"]


def test_fal_submit_with_a_data_uri_is_507_with_detail(client, project, disk_full):
    headers = {"Authorization": f"Key {factories.make_api_key(project)}"}
    body = {"prompt": "brighten the room", "image_urls": [data_uri()]}
    response = client.post("/fal/queue/fal-ai/nano-banana-pro/edit", json=body, headers=headers)
    assert response.status_code == 507
    assert FULL in response.get_json()["detail"]


def test_nanobanana_generate_answers_its_envelope_with_the_message(client, project, disk_full):
    nb = ApiClient(client, "Bearer " + factories.make_api_key(project), header="Authorization")
    response = nb.post("/api/v1/nanobanana/generate", json={"prompt": "brighten", "type": "IMAGETOIAMGE", "imageUrls": [data_uri()]})
    assert response.status_code == 200  # the nanobanana surface puts the outcome in the body
    body = response.get_json()
    assert body["code"] != 200 and FULL in body["msg"]


def test_listing_drop_zone_says_storage_is_full(logged_in, project, disk_full):
    response = logged_in.post(f"/projects/{project.id}/images", data={"photos": photo_file()}, headers={"X-Photo-Upload": "one"})
    assert response.status_code == 507
    assert FULL in response.get_data(as_text=True)


def test_unwritable_storage_is_503_with_retry_after(app, api_client, tmp_path):
    not_a_directory = tmp_path / "storage-is-a-file"
    not_a_directory.write_text("a mount that did not come up")
    app.config["STORAGE_DIR"] = str(not_a_directory)
    response = api_client.post("/api/v1/images/upload", data={"file": photo_file()})
    assert response.status_code == 503 and int(response.headers["Retry-After"]) > 0
    error = response.get_json()["error"]
    assert error["code"] == "storage_unavailable" and "ask your administrator" in error["message"]


def ledger_kinds(generation_id):
    query = sa.select(CreditLedger.kind).where(CreditLedger.generation_id == generation_id).order_by(CreditLedger.id)
    return [kind.value for kind in db.session.scalars(query)]


def queue_generation(api_client, project) -> Generation:
    body = {"preset": "enhance", "referenceImages": [factories.make_image(project).id]}
    created = api_client.post("/api/v1/generations", json=body)
    assert created.status_code == 201
    return db.session.get(Generation, created.get_json()["data"]["id"])


def test_a_generation_that_cannot_store_its_output_fails_with_the_reason_and_is_refunded(app, api_client, project, worker):
    generation = queue_generation(api_client, project)
    before = credits.balance(project.workspace_id)
    app.config["STORAGE_FAULT_DEVICE"] = "/dev/full"
    try:
        worker()
    finally:
        app.config.pop("STORAGE_FAULT_DEVICE")

    db.session.refresh(generation)
    assert generation.status is GenerationStatus.FAILED
    assert generation.error_code == "storage_full" and FULL in generation.error_message
    assert ledger_kinds(generation.id) == ["reserve", "refund"]
    assert credits.balance(project.workspace_id) == before + generation.cost


def test_a_generation_whose_photo_file_is_gone_fails_saying_so_and_is_refunded(app, api_client, project, worker):
    generation = queue_generation(api_client, project)
    for image_id in generation.reference_image_ids:
        storage().delete(db.session.get(Image, image_id).storage_key)  # as when a storage volume is restored from an older backup
    worker()

    db.session.refresh(generation)
    assert generation.status is GenerationStatus.FAILED
    assert generation.error_code == "storage_file_missing" and "ask your administrator" in generation.error_message
    assert ledger_kinds(generation.id) == ["reserve", "refund"]


def test_readyz_reports_full_storage(client, disk_full):
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "not ready" and FULL in body["storage"]


def test_readyz_is_200_when_everything_answers(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {**response.get_json(), "status": "ready", "storage": "ok"}


def test_the_fault_suites_switch_fills_and_frees_the_disk_of_a_running_app(app, api_client, tmp_path):
    """STORAGE_FAULT_SWITCH (tests only): the disk is full while the named file exists, and free once it is gone."""
    switch = tmp_path / "disk-is-full"
    app.config["STORAGE_FAULT_SWITCH"] = str(switch)
    try:
        switch.touch()
        full = api_client.post("/api/v1/images/upload", data={"file": photo_file()})
        assert full.status_code == 507 and FULL in full.get_json()["error"]["message"]
        switch.unlink()
        freed = api_client.post("/api/v1/images/upload", data={"file": photo_file()})
        assert freed.status_code == 201, freed.get_json()
    finally:
        app.config.pop("STORAGE_FAULT_SWITCH")
