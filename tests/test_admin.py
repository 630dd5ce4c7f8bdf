"""The admin console: access, users, credits, ledger, usage, requeue, and the credits CLI."""
import pytest
import sqlalchemy as sa

from app.auth.models import User
from app.credits.models import CreditLedger, LedgerKind
from app.extensions import db
from app.generations import lifecycle
from app.generations import service as generations
from app.generations.models import Generation, GenerationStatus
from app.generations.spec import GenerationSpec
from app.images.service import upload_image
from app.projects.models import Workspace
from app.projects.service import workspaces_for
from tests import factories

ADMIN_PAGES = ["/admin", "/admin/users", "/admin/workspaces", "/admin/ledger", "/admin/jobs"]


@pytest.fixture
def admin(app):
    return factories.make_user("boss@example.com", role="admin")


@pytest.fixture
def admin_client(client, admin):
    response = client.post("/login", data={"email": admin.email, "password": factories.PASSWORD})
    assert response.status_code == 302
    return client


def workspace_of(user) -> Workspace:
    return workspaces_for(user)[0]


def ledger_rows(workspace_id: int) -> list[CreditLedger]:
    query = sa.select(CreditLedger).where(CreditLedger.workspace_id == workspace_id).order_by(CreditLedger.id)
    return list(db.session.scalars(query))


def failed_generation(project) -> Generation:
    image = upload_image(project, factories.photo_bytes("kitchen_02.jpg"), "kitchen_02.jpg")
    generation = generations.create_generation(project, GenerationSpec(preset="enhance", references=[image.id]))
    db.session.commit()
    lifecycle.fail_generation(generation, "x", "boom")
    db.session.commit()
    db.session.refresh(generation)
    return generation


@pytest.mark.parametrize("path", ADMIN_PAGES + ["/admin/workspaces/1"])
def test_agent_gets_403_on_admin_pages(logged_in, path):
    response = logged_in.get(path)
    assert response.status_code == 403
    assert b"Admin overview" not in response.data


def test_agent_gets_403_on_admin_actions(logged_in, user):
    response = logged_in.post(f"/admin/workspaces/{workspace_of(user).id}/credits",
                              data={"action": "grant", "amount": "100", "reason": "self-service"})
    assert response.status_code == 403
    assert len(ledger_rows(workspace_of(user).id)) == 1  # only the free-credits grant


def test_anonymous_visitor_is_sent_to_login(client):
    response = client.get("/admin/users")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


@pytest.mark.parametrize("path", ADMIN_PAGES)
def test_admin_sees_every_console_page(admin_client, path):
    assert admin_client.get(path).status_code == 200


def test_admin_creates_a_user_who_can_log_in(admin_client, app):
    response = admin_client.post("/admin/users", data={"email": "New@Example.com", "password": "long enough", "role": "agent"})
    assert response.status_code == 302
    created = db.session.scalar(sa.select(User).where(User.email == "new@example.com"))
    assert created.role == "agent" and workspaces_for(created)
    login = app.test_client().post("/login", data={"email": "new@example.com", "password": "long enough"})
    assert login.status_code == 302


def test_create_user_with_short_password_is_400_with_message(admin_client):
    response = admin_client.post("/admin/users", data={"email": "x@example.com", "password": "short", "role": "agent"})
    assert response.status_code == 400
    assert b"at least 8 characters" in response.data
    assert db.session.scalar(sa.select(User).where(User.email == "x@example.com")) is None


def test_deactivated_user_cannot_log_in_until_reactivated(admin_client, user, app):
    response = admin_client.post(f"/admin/users/{user.id}/deactivate")
    assert response.status_code == 302
    login = app.test_client().post("/login", data={"email": user.email, "password": factories.PASSWORD})
    assert login.status_code == 400
    admin_client.post(f"/admin/users/{user.id}/reactivate")
    login = app.test_client().post("/login", data={"email": user.email, "password": factories.PASSWORD})
    assert login.status_code == 302


def test_admin_cannot_deactivate_self(admin_client, admin):
    response = admin_client.post(f"/admin/users/{admin.id}/deactivate")
    assert response.status_code == 400
    assert b"cannot deactivate your own account" in response.data
    db.session.expire_all()
    assert db.session.get(User, admin.id).active


def test_admin_cannot_demote_self_but_can_promote_others(admin_client, admin, user):
    response = admin_client.post(f"/admin/users/{admin.id}/role", data={"role": "agent"})
    assert response.status_code == 400
    assert b"cannot remove your own admin role" in response.data
    assert admin_client.post(f"/admin/users/{user.id}/role", data={"role": "admin"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(User, admin.id).role == "admin"
    assert db.session.get(User, user.id).role == "admin"


def test_unknown_role_is_400(admin_client, user):
    response = admin_client.post(f"/admin/users/{user.id}/role", data={"role": "owner"})
    assert response.status_code == 400
    assert b"Role must be one of: agent, admin" in response.data


def test_grant_with_reason_adds_ledger_row_with_actor_and_moves_balance(admin_client, admin, user):
    workspace = workspace_of(user)
    before = workspace.credit_balance
    response = admin_client.post(f"/admin/workspaces/{workspace.id}/credits",
                                 data={"action": "grant", "amount": "40", "reason": "Monthly plan"})
    assert response.status_code == 302
    row = ledger_rows(workspace.id)[-1]
    assert (row.kind, row.amount, row.actor_id, row.reason) == (LedgerKind.GRANT, 40, admin.id, "Monthly plan")
    db.session.refresh(workspace)
    assert workspace.credit_balance == before + 40 == row.balance_after
    page = admin_client.get(f"/admin/workspaces/{workspace.id}")
    assert b"Monthly plan" in page.data and b"boss@example.com" in page.data


def test_deduct_beyond_balance_is_refused_with_message(admin_client, user):
    workspace = workspace_of(user)
    before = workspace.credit_balance
    response = admin_client.post(f"/admin/workspaces/{workspace.id}/credits",
                                 data={"action": "deduct", "amount": str(before + 1), "reason": "Chargeback"})
    assert response.status_code == 409
    assert b"Not enough credits" in response.data
    db.session.refresh(workspace)
    assert workspace.credit_balance == before
    assert len(ledger_rows(workspace.id)) == 1


def test_deduct_within_balance_writes_adjust_row(admin_client, user):
    workspace = workspace_of(user)
    admin_client.post(f"/admin/workspaces/{workspace.id}/credits", data={"action": "deduct", "amount": "5", "reason": "Typo"})
    row = ledger_rows(workspace.id)[-1]
    assert (row.kind, row.amount) == (LedgerKind.ADJUST, -5)


def test_grant_without_reason_is_refused(admin_client, user):
    workspace = workspace_of(user)
    response = admin_client.post(f"/admin/workspaces/{workspace.id}/credits",
                                 data={"action": "grant", "amount": "10", "reason": "   "})
    assert response.status_code == 400
    assert b"Give a reason" in response.data
    assert len(ledger_rows(workspace.id)) == 1


@pytest.mark.parametrize("amount", ["", "abc", "0", "-5", "1.5", "²", "99999999999999999999"])
def test_grant_with_bad_amount_is_400(admin_client, user, amount):
    workspace = workspace_of(user)
    response = admin_client.post(f"/admin/workspaces/{workspace.id}/credits",
                                 data={"action": "grant", "amount": amount, "reason": "promo"})
    assert response.status_code == 400
    assert b"whole number from 1 to" in response.data


def test_unknown_workspace_is_404_even_with_huge_id(admin_client):
    assert admin_client.get("/admin/workspaces/999").status_code == 404
    assert admin_client.get("/admin/workspaces/99999999999999999999999").status_code == 404


def test_ledger_filter_by_kind_returns_only_that_kind(admin_client, user):
    workspace = workspace_of(user)
    admin_client.post(f"/admin/workspaces/{workspace.id}/credits", data={"action": "deduct", "amount": "3", "reason": "fix"})
    response = admin_client.get("/admin/ledger?kind=adjust", headers={"HX-Request": "true"})
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "<html" not in body  # the table fragment only
    assert body.count('class="kind-adjust"') == 1
    assert "kind-grant" not in body
    assert "kind-grant" in admin_client.get("/admin/ledger").get_data(as_text=True)


def test_history_restore_request_to_admin_gets_the_full_page(admin_client):
    response = admin_client.get("/admin/ledger", headers={"HX-Request": "true", "HX-History-Restore-Request": "true"})
    assert response.status_code == 200
    assert "<html" in response.get_data(as_text=True)
    assert "HX-Request" in response.headers["Vary"]


@pytest.mark.parametrize("query, message", [
    ("kind=bonus", "Kind must be one of"),
    ("date_from=yesterday", "From must be a date"),
    ("date_from=2025-02-01&date_to=2025-01-01", "must not be after"),
    ("workspace=abc", "Workspace must be a workspace id"),
    ("offset=-1", "offset must be a whole number"),
])
def test_ledger_with_bad_filter_is_400_with_message(admin_client, query, message):
    response = admin_client.get(f"/admin/ledger?{query}")
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)


def test_users_pager_pages_by_the_limit_and_keeps_it_in_its_links(admin_client, admin):
    for _ in range(3):
        factories.make_user()
    first = admin_client.get("/admin/users?limit=2").get_data(as_text=True)
    assert "1–2 of 4" in first and "offset=2&amp;limit=2" in first and "Newer" not in first
    last = admin_client.get("/admin/users?limit=2&offset=2").get_data(as_text=True)
    assert "3–4 of 4" in last and "offset=0&amp;limit=2" in last and "Older" not in last


def test_ledger_filters_by_workspace_and_date_range(admin_client, user, admin):
    workspace = workspace_of(user)
    today = db.session.scalar(sa.select(CreditLedger.created_at)).date().isoformat()
    page = admin_client.get(f"/admin/ledger?workspace={workspace.id}&date_from={today}&date_to={today}").get_data(as_text=True)
    assert page.count('class="kind-grant"') == 1
    assert admin.email.split("@")[0] + "'s workspace" not in page
    empty = admin_client.get(f"/admin/ledger?workspace={workspace.id}&date_to=2000-01-01").get_data(as_text=True)
    assert "No ledger rows match." in empty
    assert admin_client.get("/admin/ledger?date_from=0001-01-01&date_to=9999-12-31").status_code == 200


def test_usage_page_renders_svg_bars_for_spent_credits(admin_client, project):
    failed_generation(project)
    response = admin_client.get("/admin")
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert body.count("<svg") == 2
    assert "1 failed" in body  # a stacked bar's tooltip for today's failed job
    assert "credits</title>" in body


def test_requeue_of_failed_generation_creates_new_queued_one_that_runs(admin_client, admin, project, worker):
    old = failed_generation(project)
    balance_before = project.workspace.credit_balance
    response = admin_client.post(f"/admin/jobs/{old.id}/requeue?status=failed")
    assert response.status_code == 302 and "status=failed" in response.headers["Location"]
    new = db.session.scalar(sa.select(Generation).where(Generation.retry_of_id == old.id))
    assert new.status is GenerationStatus.QUEUED
    assert (new.preset, new.reference_image_ids, new.provider) == (old.preset, old.reference_image_ids, old.provider)
    reserve = db.session.scalar(sa.select(CreditLedger).where(CreditLedger.generation_id == new.id))
    assert reserve.kind is LedgerKind.RESERVE and reserve.amount == -new.cost and reserve.actor_id == admin.id
    db.session.refresh(project.workspace)
    assert project.workspace.credit_balance == balance_before - new.cost

    worker()

    db.session.expire_all()
    assert db.session.get(Generation, new.id).status is GenerationStatus.SUCCEEDED
    assert db.session.get(Generation, old.id).status is GenerationStatus.FAILED


def test_requeue_twice_is_refused(admin_client, project):
    old = failed_generation(project)
    admin_client.post(f"/admin/jobs/{old.id}/requeue")
    response = admin_client.post(f"/admin/jobs/{old.id}/requeue")
    assert response.status_code == 409
    assert b"already requeued" in response.data
    assert db.session.scalar(sa.select(sa.func.count()).where(Generation.retry_of_id == old.id)) == 1


def test_requeue_of_generation_that_did_not_fail_is_409(admin_client, project):
    old = failed_generation(project)
    admin_client.post(f"/admin/jobs/{old.id}/requeue")
    new_id = db.session.scalar(sa.select(Generation.id).where(Generation.retry_of_id == old.id))
    response = admin_client.post(f"/admin/jobs/{new_id}/requeue")
    assert response.status_code == 409
    assert b"Only failed generations can be requeued; this one is queued." in response.data


def test_requeue_without_credits_is_402_with_message(admin_client, project):
    old = failed_generation(project)
    workspace = project.workspace
    admin_client.post(f"/admin/workspaces/{workspace.id}/credits",
                      data={"action": "deduct", "amount": str(workspace.credit_balance), "reason": "Empty it"})
    response = admin_client.post(f"/admin/jobs/{old.id}/requeue")
    assert response.status_code == 402
    assert b"Not enough credits" in response.data
    assert db.session.scalar(sa.select(sa.func.count()).where(Generation.retry_of_id == old.id)) == 0


def test_jobs_filter_by_status_lists_only_that_status(admin_client, project):
    failed_generation(project)
    failed = admin_client.get("/admin/jobs?status=failed", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert failed.count('class="status-failed"') == 1 and "Requeue" in failed
    queued = admin_client.get("/admin/jobs?status=queued").get_data(as_text=True)
    assert "No generations match." in queued
    assert admin_client.get("/admin/jobs?status=lost").status_code == 400


def test_cli_credits_grant_moves_the_balance(app, user):
    workspace = workspace_of(user)
    before = workspace.credit_balance
    result = app.test_cli_runner().invoke(args=["credits", "grant", str(workspace.id), "25", "--reason", "promo"])
    assert result.exit_code == 0, result.output
    db.session.refresh(workspace)
    assert workspace.credit_balance == before + 25
    row = ledger_rows(workspace.id)[-1]
    assert (row.amount, row.reason, row.actor_id) == (25, "promo", None)


def test_cli_credits_deduct_beyond_balance_is_an_error_message(app, user):
    workspace = workspace_of(user)
    result = app.test_cli_runner().invoke(args=["credits", "deduct", str(workspace.id), "100000", "--reason", "oops"])
    assert result.exit_code != 0
    assert "Not enough credits" in result.output
    result = app.test_cli_runner().invoke(args=["credits", "grant", "999", "5", "--reason", "x"])
    assert "No workspace with id 999" in result.output
