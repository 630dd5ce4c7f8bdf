"""Projects (listings and API projects): list, create, and a project's page."""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from app.account.dashboard import listing_cards
from app.catalog.presets import PRESETS
from app.errors import ApiError
from app.extensions import db
from app.generations.samples import rendered_sample_key, sample_photo
from app.listings import service as listings
from app.pages.photos import grid_context
from app.projects import service

bp = Blueprint("projects", __name__)


# The home page's before/after examples: (preset, what it shows an agent), each rendered once by the built-in engine.
HOME_EXAMPLES = (
    ("brighten-dark-room", "A dark living room, brightened"),
    ("day-to-dusk", "A daytime front, turned to dusk"),
    ("straighten", "A tilted shot, straightened"),
)


@bp.get("/")
def home():
    """Visitors see what Stagecraft does; people who are logged in go to their listings."""
    if current_user.is_authenticated:
        return redirect(url_for("projects.index"))
    examples = [
        (PRESETS[preset_id], caption, sample_photo(PRESETS[preset_id]), rendered_sample_key(PRESETS[preset_id]))
        for preset_id, caption in HOME_EXAMPLES
    ]
    return render_template("home.html", examples=examples)


@bp.get("/projects")
@login_required
def index():
    return _dashboard()


@bp.post("/projects")
@login_required
def create():
    form = request.form
    try:
        project = service.create_project(
            current_user, form.get("name", ""), "listing", form.get("workspace_id", type=int),
            address=form.get("address", ""), room_count=form.get("room_count"),
        )
    except ApiError as error:
        return _dashboard(error=error.message), error.status
    db.session.commit()
    return redirect(url_for("projects.detail", project_id=project.id))


def _dashboard(error: str | None = None):
    """The listings as cards (cover, photos, jobs running); the credits come with every page (web.top_bar)."""
    listings, workspaces = service.projects_for(current_user, kind="listing"), service.workspaces_for(current_user)
    return render_template(
        "projects/index.html", cards=listing_cards(listings), workspaces=workspaces, error=error, form=request.form,
        workspace_names={workspace.id: workspace.name for workspace in workspaces},
    )


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
