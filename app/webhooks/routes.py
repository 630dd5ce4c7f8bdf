"""A project's callback settings: the signing secret, a test message, and the log of every delivery attempt."""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from app.errors import ApiError
from app.extensions import db
from app.pagination import page_params
from app.projects.service import get_project_for_user
from app.timeutil import utcnow
from app.webhooks import service

bp = Blueprint("webhooks", __name__)

LOG_PAGE_SIZE = 20


@bp.get("/projects/<id:project_id>/callbacks")
@login_required
def settings(project_id: int):
    """The signing secret, the test form and the delivery log (just the log for htmx paging)."""
    project = get_project_for_user(current_user, project_id)
    limit, offset = page_params(request.args, default_limit=LOG_PAGE_SIZE)
    if request.htmx:
        return _render_log(project, offset=offset, limit=limit)
    return _render_page(project, offset=offset, limit=limit)


@bp.post("/projects/<id:project_id>/callbacks/rotate")
@login_required
def rotate(project_id: int):
    project = get_project_for_user(current_user, project_id)
    service.rotate_secret(project)
    db.session.commit()
    flash("New signing secret made. For the next 24 hours messages are signed with both the old and the new one, "
          "so there is time to update the receiving app.")
    return redirect(url_for("webhooks.settings", project_id=project.id))


@bp.post("/projects/<id:project_id>/callbacks/test")
@login_required
def send_test(project_id: int):
    """Queue a signed test message to the address typed in; show it at the top of the log."""
    project = get_project_for_user(current_user, project_id)
    url = request.form.get("url", "")
    try:
        service.send_test_event(project, url)
    except ApiError as refused:
        if request.htmx:
            return _render_log(project, test_error=_plain(refused.message), test_url=url), refused.status
        return _render_page(project, test_error=_plain(refused.message), test_url=url), refused.status
    db.session.commit()
    if request.htmx:
        return _render_log(project, test_url=url, test_sent=True)
    flash("Test message queued; it appears in the log below.")
    return redirect(url_for("webhooks.settings", project_id=project.id))


@bp.post("/projects/<id:project_id>/callbacks/<delivery_id>/redeliver")
@login_required
def redeliver(project_id: int, delivery_id: str):
    """Send one delivery again, same message and id; htmx gets the delivery's card back."""
    project = get_project_for_user(current_user, project_id)
    service.redeliver(service.get_delivery(project, delivery_id))
    db.session.commit()
    if request.htmx:
        delivery = service.get_delivery(project, delivery_id)  # read again with its attempts: the card lists them
        return render_template("webhooks/_delivery.html", project=project, delivery=delivery, now=utcnow())
    flash("The message is being sent again.")
    return redirect(url_for("webhooks.settings", project_id=project.id))


def _plain(message: str) -> str:
    """An API message worded for the page, where the field is called the address."""
    return message.replace("callbackUrl", "The address")


def _render_page(project, offset: int = 0, limit: int = LOG_PAGE_SIZE, **context):
    return render_template(
        "webhooks/settings.html", project=project, **_log_context(project, offset, limit, **context),
    )


def _render_log(project, offset: int = 0, limit: int = LOG_PAGE_SIZE, **context):
    return render_template("webhooks/_log.html", project=project, **_log_context(project, offset, limit, **context))


def _log_context(project, offset: int, limit: int, **context) -> dict:
    return {
        "page": service.list_deliveries(project, limit=limit, offset=offset), "now": utcnow(),
        "test_error": None, "test_url": "", "test_sent": False, **context,
    }
