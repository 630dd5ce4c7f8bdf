"""The built-in engine through the real worker: an unchanged photo fails and is refunded, an unsuitable one
is refused, and a straightened one says by how much."""
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.credits.models import CreditLedger, LedgerKind
from app.extensions import db
from app.generations.models import Generation, GenerationStatus
from app.images.models import Image
from app.projects.models import Workspace

PHOTOS = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "photos"


def _run(api_client, worker, project, photo: str, preset: str) -> tuple[Generation, int]:
    """Upload a fixture photo, order a preset on it, run the worker; (generation, balance change)."""
    upload = api_client.post("/api/v1/images/upload", data={"file": ((PHOTOS / photo).open("rb"), photo)})
    assert upload.status_code == 201, upload.get_json()
    workspace = db.session.get(Workspace, project.workspace_id)
    before = workspace.credit_balance
    created = api_client.post("/api/v1/generations",
                              json={"preset": preset, "referenceImages": [upload.get_json()["data"]["id"]]})
    assert created.status_code in (200, 201, 202), created.get_json()
    worker()
    db.session.expire_all()
    generation = db.session.get(Generation, created.get_json()["data"]["id"])
    return generation, db.session.get(Workspace, project.workspace_id).credit_balance - before


def _ledger_kinds(generation: Generation) -> list[LedgerKind]:
    rows = db.session.scalars(sa.select(CreditLedger).where(CreditLedger.generation_id == generation.id)
                              .order_by(CreditLedger.id))
    return [row.kind for row in rows]


@pytest.mark.parametrize("photo, preset, says", [
    ("kitchen_01.jpg", "blue-sky", "No sky found to replace"),
    ("exterior_04.jpg", "blue-sky", "already a clear blue"),
    ("dining_01.jpg", "straighten", "already level"),
    ("living_02.jpg", "green-lawn", "No lawn found"),
])
def test_a_photo_no_edit_changed_fails_with_the_reason_and_is_refunded(api_client, worker, project, photo, preset,
                                                                        says):
    generation, spent = _run(api_client, worker, project, photo, preset)
    assert generation.status is GenerationStatus.FAILED
    assert generation.error_code == "nothing_changed"
    assert says in generation.error_message and "No credits were used" in generation.error_message
    assert spent == 0
    assert _ledger_kinds(generation) == [LedgerKind.RESERVE, LedgerKind.REFUND]


@pytest.mark.parametrize("photo, preset, scene", [
    ("exterior_01.jpg", "brighten-dark-room", "exterior"),
    ("dusk_exterior_01.jpg", "brighten-dark-room", "twilight"),
    ("dusk_exterior_01.jpg", "day-to-dusk", "twilight"),
])
def test_a_preset_refuses_a_scene_it_is_not_made_for(api_client, worker, project, photo, preset, scene):
    generation, spent = _run(api_client, worker, project, photo, preset)
    assert generation.status is GenerationStatus.FAILED
    assert generation.error_code == "unsuitable_photo"
    assert scene in generation.error_message and "Enhance" in generation.error_message
    assert spent == 0


def test_a_tilted_photo_is_straightened_and_the_angle_is_on_the_result(api_client, worker, project):
    generation, spent = _run(api_client, worker, project, "tilted_kitchen_01.jpg", "straighten")
    assert generation.status is GenerationStatus.SUCCEEDED, generation.error_message
    assert spent < 0 and _ledger_kinds(generation) == [LedgerKind.RESERVE, LedgerKind.CAPTURE]
    assert "Straightened by 4." in generation.progress_message
    output = db.session.scalar(sa.select(Image).where(Image.generation_id == generation.id))
    assert any(note.startswith("Straightened by 4.") for note in output.meta["notes"])
