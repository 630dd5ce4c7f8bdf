"""The admin console's pages. Admins only: anonymous visitors are sent to log in, everyone else gets 403."""
from collections.abc import Mapping
from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from app.admin import service
from app.auth import service as auth_service
from app.auth.models import ROLES
from app.credits.models import LedgerKind
from app.errors import ApiError
from app.extensions import db
from app.generations.models import GenerationStatus
from app.pagination import page_params, whole_number

bp = Blueprint("admin", __name__, url_prefix="/admin")

LEDGER_KINDS = [kind.value for kind in LedgerKind]
STATUSES = [status.value for status in GenerationStatus]


@bp.before_request
@login_required
def require_admin():
    """A signed-in agent is told plainly that the console is for administrators (403), and shown nothing of it."""
    if not (current_user.is_authenticated and current_user.is_admin):
        abort(403)


@bp.after_request
def vary_on_htmx(response):
    """The same URL gives a page or a fragment, so caches must keep them apart."""
    response.vary.add("HX-Request")
    return response


def _wants_fragment() -> bool:
    # htmx restoring history it no longer has cached asks for the whole page.
    return bool(request.htmx) and not request.htmx.history_restore_request


def _filters_query(*names: str) -> dict:
    """The non-empty filters and page size of the current request, for pager and form links."""
    return {name: request.args[name] for name in (*names, "limit") if request.args.get(name)}


# Parsing and validating input

def _page_params() -> tuple[int, int]:
    """The limit (the console's page size unless given) and offset the current request asks for; 400 if wrong."""
    return page_params(request.args, service.PAGE_SIZE)


def parse_amount(value: str | None) -> int:
    """A credit amount typed by an admin: a whole number from 1 to MAX_ADJUSTMENT."""
    amount = whole_number(value, 1, service.MAX_ADJUSTMENT)
    if amount is None:
        raise ApiError(f"Enter the amount as a whole number from 1 to {service.MAX_ADJUSTMENT:,}.")
    return amount


def _parse_date(value: str | None, label: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise ApiError(f"{label} must be a date like 2025-01-31.") from None


def parse_ledger_filters(args: Mapping) -> service.LedgerFilters:
    """Ledger filters from query-string values; 400 naming the field that is wrong."""
    workspace, kind = (args.get("workspace") or "").strip(), (args.get("kind") or "").strip()
    if workspace and whole_number(workspace, 1) is None:
        raise ApiError("Workspace must be a workspace id (a number from the workspaces page).")
    if kind and kind not in LEDGER_KINDS:
        raise ApiError(f"Kind must be one of: {', '.join(LEDGER_KINDS)}.")
    generation_id = (args.get("generation") or "").strip()
    if len(generation_id) > 36:
        raise ApiError("A generation id has at most 36 characters.")
    filters = service.LedgerFilters(
        workspace_id=whole_number(workspace, 1),
        kind=LedgerKind(kind) if kind else None,
        generation_id=generation_id or None,
        date_from=_parse_date(args.get("date_from"), "From"),
        date_to=_parse_date(args.get("date_to"), "To"),
    )
    if filters.date_from and filters.date_to and filters.date_from > filters.date_to:
        raise ApiError("The From date must not be after the To date.")
    return filters


def parse_status(value: str | None) -> GenerationStatus | None:
    """A generation status filter; None for all; 400 listing the statuses otherwise."""
    value = (value or "").strip()
    if not value:
        return None
    try:
        return GenerationStatus(value)
    except ValueError:
        raise ApiError(f"Status must be one of: {', '.join(STATUSES)}.") from None


@bp.get("/", strict_slashes=False)
def overview():
    return render_template(
        "admin/overview.html",
        queues=service.queue_overview(),
        services=service.provider_overview(),
        statuses=service.status_counts(),
        usage=service.usage_by_day(),
    )


# Users

def _users_page(error: str | None = None, status: int = 200, form=None):
    page = service.list_users(*_page_params())
    return render_template(
        "admin/users.html", page=page, filters_query=_filters_query(), roles=ROLES, error=error, form=form or {}
    ), status


@bp.get("/users")
def users():
    return _users_page()


@bp.post("/users")
def create_user():
    form = request.form
    try:
        user = auth_service.create_user(form.get("email", ""), form.get("password", ""), role=form.get("role", "agent"))
    except ApiError as error:
        db.session.rollback()
        return _users_page(error.message, error.status, form)
    db.session.commit()
    flash(f"Created {user.role} {user.email} with a personal workspace; they can log in now.")
    return redirect(url_for("admin.users"))


def _change_user(change, message: str):
    try:
        user = change()
    except ApiError as error:
        db.session.rollback()
        return _users_page(error.message, error.status)
    db.session.commit()
    flash(message.format(email=user.email, role=user.role))
    return redirect(url_for("admin.users", **_filters_query("offset")))


@bp.post("/users/<id:user_id>/deactivate")
def deactivate_user(user_id: int):
    return _change_user(
        lambda: service.set_active(current_user, user_id, False), "{email} is deactivated and can no longer log in."
    )


@bp.post("/users/<id:user_id>/logout-everywhere")
def log_out_user_everywhere(user_id: int):
    return _change_user(lambda: service.log_out_everywhere(user_id), "{email} is logged out on every browser.")


@bp.post("/users/<id:user_id>/reactivate")
def reactivate_user(user_id: int):
    return _change_user(lambda: service.set_active(current_user, user_id, True), "{email} can log in again.")


@bp.post("/users/<id:user_id>/role")
def change_role(user_id: int):
    role = request.form.get("role", "")
    return _change_user(lambda: service.set_role(current_user, user_id, role), "{email} is now an {role}.")


# Workspaces and credits

@bp.get("/workspaces")
def workspaces():
    page = service.list_workspaces(*_page_params())
    return render_template("admin/workspaces.html", page=page, filters_query=_filters_query())


def _workspace_page(workspace, error: str | None = None, status: int = 200, form=None):
    ledger = service.ledger_page(service.LedgerFilters(workspace_id=workspace.id))
    return render_template(
        "admin/workspace.html", workspace=workspace, ledger=ledger, error=error, form=form or {}
    ), status


@bp.get("/workspaces/<id:workspace_id>")
def workspace(workspace_id: int):
    return _workspace_page(service.get_workspace(workspace_id))


@bp.post("/workspaces/<id:workspace_id>/credits")
def adjust_credits(workspace_id: int):
    workspace = service.get_workspace(workspace_id)
    form = request.form
    try:
        amount = parse_amount(form.get("amount"))
        entry = service.adjust_credits(workspace, form.get("action", ""), amount, form.get("reason", ""), current_user)
    except ApiError as error:
        db.session.rollback()
        return _workspace_page(service.get_workspace(workspace_id), error.message, error.status, form)
    db.session.commit()
    verb = "Granted" if entry.amount > 0 else "Deducted"
    flash(f"{verb} {abs(entry.amount)} credits; the balance is now {entry.balance_after}.")
    return redirect(url_for("admin.workspace", workspace_id=workspace.id))


# Ledger and jobs: one view renders the page or, for htmx, just the table.

@bp.get("/ledger")
def ledger():
    filters_query = _filters_query("workspace", "kind", "generation", "date_from", "date_to")
    context = dict(args=request.args, filters_query=filters_query, kinds=LEDGER_KINDS, page=None)
    try:
        filters = parse_ledger_filters(request.args)
        context["page"] = service.ledger_page(filters, *_page_params())
    except ApiError as error:
        if _wants_fragment():
            raise
        return render_template("admin/ledger.html", error=error.message, **context), error.status
    if _wants_fragment():
        return render_template("admin/_ledger_table.html", clear_errors=True, **context)
    return render_template("admin/ledger.html", **context)


def _jobs_page(error: str | None = None, status: int = 200):
    context = dict(args=request.args, filters_query=_filters_query("status"), statuses=STATUSES, page=None)
    try:
        job_status = parse_status(request.args.get("status"))
        context["page"] = service.jobs_page(job_status, *_page_params())
    except ApiError as invalid:
        if _wants_fragment():
            raise
        error, status = invalid.message, invalid.status
    if _wants_fragment() and error is None:
        return render_template("admin/_jobs_table.html", clear_errors=True, **context)
    return render_template("admin/jobs.html", error=error, **context), status


@bp.get("/jobs")
def jobs():
    return _jobs_page()


@bp.post("/jobs/<generation_id>/requeue")
def requeue(generation_id: str):
    try:
        generation = service.requeue(generation_id, current_user)
    except ApiError as error:
        db.session.rollback()
        return _jobs_page(error.message, error.status)
    db.session.commit()
    flash(f"Requeued as generation {generation.id}; it reserved {generation.cost} credits.")
    return redirect(url_for("admin.jobs", **_filters_query("status", "offset")))
