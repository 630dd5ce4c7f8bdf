"""The account menu's pages: settings with credits and ledger, the top bar's balance, and the Developers area."""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from app.account import service
from app.catalog.limits import MAX_WATERMARK_LENGTH
from app.catalog.words import LEDGER_WORDS
from app.errors import ApiError
from app.extensions import db
from app.imaging.overlay import DEFAULT_LABEL
from app.pagination import page_params
from app.projects import service as projects

bp = Blueprint("account", __name__)


@bp.get("/account")
@login_required
def settings():
    workspace = service.current_workspace(current_user)
    _, offset = page_params(request.args)
    return _settings_page(workspace, service.ledger_page(workspace, offset))


@bp.post("/account")
@login_required
def update_settings():
    workspace = service.current_workspace(current_user)
    try:
        service.update_settings(workspace, request.form.get("watermark_text", ""), request.form.get("service", ""))
    except ApiError as error:
        db.session.rollback()
        return _settings_page(workspace, service.ledger_page(workspace), error=error.message), error.status
    db.session.commit()
    flash("Settings saved.")
    return redirect(url_for("account.settings"))


def _settings_page(workspace, page, error: str | None = None):
    return render_template(
        "account/settings.html", workspace=workspace, page=page, error=error, choices=service.service_choices(),
        chosen=request.form.get("service", service.choice_value(workspace)),
        watermark_text=request.form.get("watermark_text", workspace.watermark_text or ""),
        label=service.label_of(workspace), default_label=DEFAULT_LABEL, ledger_words=LEDGER_WORDS,
        max_watermark_length=MAX_WATERMARK_LENGTH,
    )


BALANCE_PARTS = {"top": "account/_balance.html", "summary": "account/_credits_summary.html"}


@bp.get("/account/balance")
@login_required
def balance():
    """The balance in the top bar (or the dashboard's line), re-fetched after work ends and every little while."""
    template = BALANCE_PARTS.get(request.args.get("part", "top"))
    if template is None:
        raise ApiError(f"part must be one of: {', '.join(BALANCE_PARTS)}.")
    return render_template(template, top_balance=service.balance_of(current_user))


@bp.get("/developers")
@login_required
def developers():
    """API projects and each project's developer tools: keys, flows, live URLs, callbacks, generations."""
    return _developers_page()


@bp.post("/developers/projects")
@login_required
def create_api_project():
    try:
        project = projects.create_project(current_user, request.form.get("name", ""), "api")
    except ApiError as error:
        return _developers_page(error=error.message), error.status
    db.session.commit()
    flash(f"API project “{project.name}” created. Create its API key from the links below.")
    return redirect(url_for("account.developers", _anchor=f"project-{project.id}"))


def _developers_page(error: str | None = None):
    return render_template(
        "account/developers.html", error=error,
        api_projects=projects.projects_for(current_user, kind="api"),
        listings=projects.projects_for(current_user, kind="listing"),
    )
