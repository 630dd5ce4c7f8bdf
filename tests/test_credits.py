"""Credits: reserved with the generation, captured on success, refunded on failure, never overdrawn."""
from concurrent.futures import ThreadPoolExecutor

import sqlalchemy as sa

from app.credits import service as credits
from app.credits.models import CreditLedger, LedgerKind
from app.extensions import db
from app.generations.models import Generation
from app.images.storage import storage
from tests.factories import make_api_key, make_image, photo_bytes


def ledger_kinds(workspace_id: int) -> list[str]:
    query = sa.select(CreditLedger.kind).where(CreditLedger.workspace_id == workspace_id).order_by(CreditLedger.id)
    return [kind.value for kind in db.session.scalars(query)]


def test_new_workspace_starts_with_free_credits(project, app):
    assert credits.balance(project.workspace_id) == app.config["FREE_CREDITS"] == 50
    assert ledger_kinds(project.workspace_id) == ["grant"]


def test_success_reserves_then_captures(api_client, project, worker):
    image = make_image(project)
    response = api_client.post("/api/v1/generations", json={"preset": "enhance", "referenceImages": [image.id]})
    assert response.status_code == 201
    assert credits.balance(project.workspace_id) == 49
    worker()
    assert credits.balance(project.workspace_id) == 49
    assert ledger_kinds(project.workspace_id) == ["grant", "reserve", "capture"]


def test_failure_refunds_and_says_why(api_client, project, worker):
    image = make_image(project)
    storage().put(image.storage_key, photo_bytes("truncated.jpg"))
    generation_id = api_client.post(
        "/api/v1/generations", json={"preset": "enhance", "referenceImages": [image.id]}
    ).get_json()["data"]["id"]
    worker()
    generation = db.session.get(Generation, generation_id)
    assert generation.attempts == 1  # invalid input is never retried
    assert credits.balance(project.workspace_id) == 50
    assert ledger_kinds(project.workspace_id) == ["grant", "reserve", "refund"]
    refund = db.session.scalar(sa.select(CreditLedger).where(CreditLedger.kind == LedgerKind.REFUND))
    assert refund.generation_id == generation_id and "truncated" in refund.reason


def test_short_balance_is_402_with_needed_and_available(api_client, project):
    image = make_image(project)
    credits.adjust(project.workspace_id, -50, None, "test drains the balance")
    db.session.commit()
    response = api_client.post("/api/v1/generations", json={"preset": "enhance", "referenceImages": [image.id]})
    assert response.status_code == 402
    message = response.get_json()["error"]["message"]
    assert "needs 1 credit" in message and "has 0" in message
    assert db.session.scalar(sa.select(sa.func.count(Generation.id))) == 0


def test_hundred_parallel_submits_with_credits_for_fifty_accept_exactly_fifty(app, project):
    body = {"preset": "enhance", "referenceImages": [make_image(project).id]}
    key = make_api_key(project)

    def submit(_):
        client = app.test_client()
        return client.post("/api/v1/generations", json=body, headers={"X-API-Key": key}).status_code

    with ThreadPoolExecutor(max_workers=16) as pool:
        statuses = list(pool.map(submit, range(100)))

    assert statuses.count(201) == 50
    assert statuses.count(402) == 50
    assert credits.balance(project.workspace_id) == 0
    assert db.session.scalar(sa.select(sa.func.count(Generation.id))) == 50


def test_low_balance_is_flagged_in_api_headers(api_client, project, app):
    image = make_image(project)
    ok = api_client.get(f"/api/v1/images/{image.id}")
    assert ok.headers["X-Credits-Balance"] == "50" and "X-Credits-Low" not in ok.headers
    credits.adjust(project.workspace_id, -45, None, "test")
    db.session.commit()
    low = api_client.get(f"/api/v1/images/{image.id}")
    assert low.headers["X-Credits-Balance"] == "5" and low.headers["X-Credits-Low"] == "true"


def test_low_balance_warning_on_pages(logged_in, project):
    credits.adjust(project.workspace_id, -45, None, "test")
    db.session.commit()
    page = logged_in.get(f"/projects/{project.id}").get_data(as_text=True)
    assert "Low balance" in page and "<strong>5</strong> credits left" in page
