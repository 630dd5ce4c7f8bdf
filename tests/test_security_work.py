"""Hostile callers and bad input (issue 15), the findings that need a worker: deleting unfinished work stops it,
and every live-URL MISS counts against the API key's rate limit."""
import pytest
import sqlalchemy as sa

from app import create_app
from app.auth.models import ApiKey
from app.credits import service as credits
from app.credits.models import CreditLedger
from app.extensions import db
from app.generations.models import Generation, GenerationStatus
from app.images.models import Image
from tests import factories
from tests.processes import start_gate_worker, start_worker, stop_tree
from tests.upstreams import gemini as gemini_module
from tests.test_worker_death import wait_for


def ledger_kinds(generation_id):
    query = sa.select(CreditLedger.kind).where(CreditLedger.generation_id == generation_id).order_by(CreditLedger.id)
    return [kind.value for kind in db.session.scalars(query)]


def stored_outputs(generation_id) -> int:
    return db.session.scalar(sa.select(sa.func.count(Image.id)).where(Image.generation_id == generation_id))


# 4. Deleting unfinished work cancels it (refunded) first; the job then does nothing and stores nothing.

@pytest.mark.parametrize("hard", ["false", "true"])
def test_deleting_a_queued_generation_cancels_and_refunds_it(api_client, project, gate, worker, hard):
    generation = gate.queue_generation(project)
    workspace_id = project.workspace_id
    balance_before_refund = credits.balance(workspace_id)
    response = api_client.client.delete(
        f"/api/v1/generations/{generation.id}?hard={hard}", headers={"X-API-Key": api_client.key}
    )
    assert response.status_code == 200
    gate.open()  # were the job to run, nothing would hold it back
    worker()
    db.session.expire_all()
    generation = db.session.get(Generation, generation.id)
    assert generation.status is GenerationStatus.CANCELED and generation.deleted_at is not None
    assert ledger_kinds(generation.id) == ["reserve", "refund"]
    assert credits.balance(workspace_id) == balance_before_refund + generation.cost
    assert stored_outputs(generation.id) == 0
    assert gate.entered() == []  # the job never started


@pytest.fixture
def gate_worker(config, gate):
    process = start_gate_worker(config)
    yield process
    stop_tree(process)


def test_deleting_a_running_generation_stops_it_and_stores_nothing(api_client, project, gate, gate_worker):
    generation = gate.queue_generation(project)
    gate.wait_until_entered()
    response = api_client.client.delete(f"/api/v1/generations/{generation.id}", headers={"X-API-Key": api_client.key})
    assert response.status_code == 200
    gate.open()

    def ended():
        db.session.expire_all()
        return db.session.get(Generation, generation.id).is_terminal

    wait_for(ended, message="the running generation to stop")
    generation = db.session.get(Generation, generation.id)
    assert generation.status is GenerationStatus.CANCELED
    assert ledger_kinds(generation.id) == ["reserve", "refund"]
    assert stored_outputs(generation.id) == 0


# 5. Live URLs: HITs stay free, every MISS counts against the key's hourly limit, with X-RateLimit-* headers.

@pytest.fixture
def gemini_connected(config, gemini_upstream):
    """Live URLs make images from a prompt alone, which needs an AI service (issue 21): Gemini's stand-in."""
    return {"GEMINI_API_KEY": gemini_module.API_KEY, "GEMINI_BASE_URL": gemini_upstream.base_url}


@pytest.fixture
def limited_app(config, gemini_connected):
    app = create_app({**config, "RATELIMIT_ENABLED": True, **gemini_connected})
    with app.app_context():
        yield app
        db.session.remove()


@pytest.fixture
def live_worker(config, gemini_connected):
    process = start_worker(config, **gemini_connected)
    yield process
    stop_tree(process)


def test_live_misses_count_against_the_key_limit_and_hits_are_free(limited_app, live_worker):
    project = factories.make_project(factories.make_user())
    key = factories.make_api_key(project)
    db.session.scalar(sa.select(ApiKey)).rate_limit = 3
    db.session.commit()
    client = limited_app.test_client()
    headers = {"X-API-Key": key}

    miss = client.get("/api/v1/live?prompt=Sunlit+loft", headers=headers)
    assert miss.status_code == 200 and miss.headers["X-Cache-Status"] == "MISS"
    assert (miss.headers["X-RateLimit-Limit"], miss.headers["X-RateLimit-Remaining"]) == ("3", "2")
    assert "X-RateLimit-Reset" in miss.headers
    for _ in range(3):
        assert client.get("/api/v1/live?prompt=Sunlit+loft", headers=headers).headers["X-Cache-Status"] == "HIT"
    listed = client.get("/api/v1/images", headers=headers)
    assert listed.headers["X-RateLimit-Remaining"] == "1"  # the MISS counted, the HITs did not
    assert client.get("/api/v1/images", headers=headers).headers["X-RateLimit-Remaining"] == "0"

    refused = client.get("/api/v1/live?prompt=Brand+new+prompt", headers=headers)
    assert refused.status_code == 429
    assert refused.headers["X-RateLimit-Remaining"] == "0" and int(refused.headers["Retry-After"]) > 0
    assert "Rate limit exceeded" in refused.get_json()["error"]["message"]
    count = sa.select(sa.func.count(Generation.id)).where(Generation.project_id == project.id)
    assert db.session.scalar(count) == 1  # the refused MISS generated nothing
    assert client.get("/api/v1/live?prompt=Sunlit+loft", headers=headers).status_code == 200  # HITs stay free
