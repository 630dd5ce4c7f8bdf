"""The "Describe photos" pages: pick a listing's photos, watch their descriptions arrive, edit, copy, download."""
from flask import Blueprint, Response, redirect, render_template, request, stream_with_context, url_for
from flask_login import current_user, login_required
from sqlalchemy.exc import IntegrityError

from app.analysis import service, stream
from app.analysis.models import Analysis
from app.analysis.serializers import export_csv, export_json
from app.analysis.writing import parse_context, slugify
from app.errors import ApiError
from app.extensions import db
from app.formkeys import form_key_of
from app.images.service import list_images
from app.projects.service import get_project_for_user
from app.sse import SSE_HEADERS

bp = Blueprint("analysis", __name__)
CONTEXT_FIELDS = ("address", "city", "bedrooms", "styleKeywords", "brandVoice")


@bp.get("/projects/<id:project_id>/describe")
@login_required
def index(project_id: int):
    """Pick photos and tell us about the listing."""
    project = get_project_for_user(current_user, project_id)
    images = list_images(project, source="uploaded", limit=200).items
    return render_template("analysis/index.html", project=project, images=images,
                           sessions=service.list_sessions(project))


@bp.post("/projects/<id:project_id>/describe")
@login_required
def start(project_id: int):
    """Describe the chosen photos (1 credit each) and open the page that fills in live."""
    project = get_project_for_user(current_user, project_id)
    form_key = form_key_of(request.form)
    # The same form sent again (a second click, a resubmitted page) opens the run it started, charging nothing.
    session = service.session_for_key(project, form_key)
    if session is None:
        try:
            session = _start_run(project, form_key)
        except IntegrityError:
            db.session.rollback()
            session = service.session_for_key(project, form_key)
            if session is None:
                raise
    return redirect(url_for("analysis.session_page", project_id=project.id, session_id=session.id))


def _start_run(project, form_key: str | None):
    """A new session describing the chosen photos, committed with its reserved credits."""
    image_ids = request.form.getlist("image_ids")
    if not image_ids:
        raise ApiError("Choose at least one photo to describe.")
    context = parse_context({name: request.form.get(name, "") for name in CONTEXT_FIELDS})
    session = service.create_session(project, context, form_key)
    analyses = [service.add_project_image(project, session, image_id) for image_id in image_ids]
    service.start_run(session, analyses, None, actor=current_user)
    db.session.commit()
    return session


@bp.get("/projects/<id:project_id>/describe/<session_id>")
@login_required
def session_page(project_id: int, session_id: str):
    project = get_project_for_user(current_user, project_id)
    session = service.get_session(project, session_id)
    summary = service.run_summary(session)
    return render_template("analysis/session.html", project=project, session=session, summary=summary,
                           running=summary["status"] == "running")


@bp.get("/projects/<id:project_id>/describe/<session_id>/events")
@login_required
def events(project_id: int, session_id: str):
    """Each photo's card again whenever its worker reports; `complete` when the run is done."""
    project = get_project_for_user(current_user, project_id)
    session = service.get_session(project, session_id)
    run, cursor, session_key = session.run, session.run_cursor, session.id
    db.session.rollback()

    def render(name: str, data: dict) -> tuple[str, str]:
        if name == "complete":
            return "complete", render_template("analysis/_summary.html", summary=data)
        analysis = db.session.get(Analysis, data["imageId"])
        html = render_template("analysis/_card_body.html", project_id=project_id, session_id=session_key,
                               analysis=analysis)
        db.session.rollback()  # end the read transaction while we wait for the next event
        return f"card-{analysis.id}", html

    body = stream_with_context(stream.follow(session_key, run, cursor, render=render))
    return Response(body, mimetype="text/event-stream", headers=SSE_HEADERS)


@bp.post("/projects/<id:project_id>/describe/<session_id>/photos/<analysis_id>")
@login_required
def edit(project_id: int, session_id: str, analysis_id: str):
    """Save a person's edit of one photo's text."""
    project = get_project_for_user(current_user, project_id)
    session = service.get_session(project, session_id)
    analysis = service.get_analysis(session, analysis_id)
    changes = {name: request.form[name] for name in ("title", "alt", "caption", "description", "filename", "seoTags")
               if name in request.form}
    service.update_fields(analysis, changes)
    db.session.commit()
    return render_template("analysis/_card_body.html", project_id=project.id, session_id=session.id,
                           analysis=analysis, saved=True)


@bp.get("/projects/<id:project_id>/describe/<session_id>/download.<kind>")
@login_required
def download(project_id: int, session_id: str, kind: str):
    """Every described photo as a CSV or JSON file."""
    project = get_project_for_user(current_user, project_id)
    session = service.get_session(project, session_id)
    described = [a for a in session.analyses if a.result]
    if kind not in ("csv", "json"):
        raise ApiError("Download as csv or json.", status=404, code="not_found")
    body, mime = (export_csv(described), "text/csv") if kind == "csv" else (export_json(described), "application/json")
    filename = slugify(f"photo descriptions {project.name}", 60)
    return Response(body, mimetype=mime,
                    headers={"Content-Disposition": f'attachment; filename="{filename}.{kind}"'})
