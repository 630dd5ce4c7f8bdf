"""Projects (listings and API projects): list, create, and a project's page."""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from app.catalog.presets import PRESETS
from app.errors import ApiError
from app.extensions import db
from app.images.routes import grid_context
from app.listings import service as listings
from app.projects import service

bp = Blueprint("projects", __name__)


@bp.get("/")
def home():
    return redirect(url_for("projects.index" if current_user.is_authenticated else "auth.login"))


@bp.get("/projects")
@login_required
def index():
    return render_template(
        "projects/index.html", projects=service.projects_for(current_user), workspaces=service.workspaces_for(current_user)
    )


@bp.post("/projects")
@login_required
def create():
    workspace_id = request.form.get("workspace_id", type=int)
    try:
        project = service.create_project(
            current_user, request.form.get("name", ""), request.form.get("kind", "listing"), workspace_id
        )
    except ApiError as error:
        projects, workspaces = service.projects_for(current_user), service.workspaces_for(current_user)
        return render_template("projects/index.html", projects=projects, workspaces=workspaces, error=error.message), error.status
    db.session.commit()
    return redirect(url_for("projects.detail", project_id=project.id))


@bp.get("/projects/<id:project_id>")
@login_required
def detail(project_id: int):
    project = service.get_project_for_user(current_user, project_id)
    return render_template("projects/detail.html", **grid_context(project), presets=PRESETS)


@bp.post("/projects/<id:project_id>/rename")
@login_required
def rename(project_id: int):
    """Change the listing's name and address."""
    project = service.get_project_for_user(current_user, project_id)
    listings.rename_listing(project, request.form.get("name"), request.form.get("address"))
    db.session.commit()
    flash("Saved the listing's name and address.")
    return redirect(url_for("projects.detail", project_id=project.id))


@bp.post("/projects/<id:project_id>/delete")
@login_required
def delete(project_id: int):
    """Delete the listing (refused while work on its photos is running)."""
    project = service.get_project_for_user(current_user, project_id)
    name = project.name
    listings.delete_listing(project)
    db.session.commit()
    flash(f"Deleted the listing {name}.")
    return redirect(url_for("projects.index"))
