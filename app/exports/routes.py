"""Zip downloads on the listing page: start one (selection or whole listing), follow it, save it."""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from app.errors import ApiError
from app.exports import service
from app.extensions import db
from app.images.storage import file_url
from app.projects.service import get_project_for_user

bp = Blueprint("exports", __name__)


@bp.post("/projects/<id:project_id>/exports")
@login_required
def create(project_id: int):
    """Start a zip of the ticked photos (scope=selected) or of the whole listing (scope=all)."""
    project = get_project_for_user(current_user, project_id)
    scope = request.form.get("scope", "all")
    if scope not in ("all", "selected"):
        raise ApiError("Choose Download all or Download selected.")
    image_ids = request.form.getlist("image_ids") if scope == "selected" else None
    try:
        export = service.start_export(project, image_ids, user=current_user)
    except ApiError as error:
        if not request.htmx:
            raise
        db.session.rollback()
        return render_template("exports/_status.html", export=None, error=error.message), error.status
    db.session.commit()
    if not request.htmx:
        flash("Your zip is being made; it appears here when ready.")
        return redirect(url_for("projects.detail", project_id=project.id, export=export.id))
    return _status(export)


@bp.get("/exports/<export_id>")
@login_required
def status(export_id: str):
    """The export's progress, then its download link (polled by the page while it runs)."""
    return _status(service.get_export_for_user(current_user, export_id))


def _status(export):
    url = None
    if export.status == "succeeded" and export.storage_key:
        url = file_url(export.storage_key, download_name=service.download_name(export))
    return render_template("exports/_status.html", export=export, download_url=url)
