"""Live URLs: an image for a prompt, generated once and then served from the project's cache; the builder page."""
from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from app.auth.api import api_key_from_request, key_use_noted, spend_key_request
from app.auth.service import find_api_key
from app.errors import ApiError
from app.extensions import db
from app.images.storage import storage
from app.live import service, workflow
from app.projects.service import get_project_for_user

bp = Blueprint("live", __name__)

CACHE_CONTROL = "public, max-age=31536000"
MISSING_CREDENTIALS = (
    "Send an API key (X-API-Key or Authorization: Bearer), or use a signed live URL "
    "(with project= and sig=) from the project's Live URLs page."
)


@bp.get("/api/v1/live")
def image():
    """The image for a prompt: from the project's cache (HIT) or generated on the first request (MISS)."""
    plaintext = api_key_from_request()
    project_id, sig = request.args.get("project", ""), request.args.get("sig", "")
    if not plaintext and not (project_id and sig):
        raise ApiError(MISSING_CREDENTIALS, status=401, code="unauthorized")
    params = service.live_params(
        request.args.get("prompt"), request.args.get("aspectRatio"), request.args.get("resolution")
    )
    if not plaintext:
        project = service.project_for_signature(project_id, sig, params)
        service.check_origin(project, request.headers.get("Origin"), request.headers.get("Referer"), request.host)
        return _image_response(*workflow.cached_or_generated(project, params, api_key=None))
    key = find_api_key(plaintext)
    with key_use_noted(key):
        # A HIT is free (the cache answers it); every MISS counts against the key's rate limit.
        image, headers = workflow.cached_or_generated(
            key.project, params, api_key=key, on_miss=lambda: spend_key_request(key)
        )
        return _image_response(image, headers)


def _image_response(image, headers: dict) -> Response:
    """The image's bytes with caching headers, or 304 when the client already has them."""
    response = Response(status=200, content_type=image.mime)
    response.headers.update({"X-Image-Id": image.id, "Cache-Control": CACHE_CONTROL, **headers})
    response.set_etag(image.sha256)
    if api_key_from_request():
        # The same URL without the key is refused, so a shared cache must not answer it from this response.
        response.vary.update(["X-API-Key", "Authorization"])
    if request.if_none_match.contains_weak(image.sha256):
        response.status_code = 304
    else:
        response.set_data(storage().get(image.storage_key))
    return response


@bp.get("/projects/<id:project_id>/live")
@login_required
def builder(project_id: int):
    """The project's live settings and a form that builds signed live URLs."""
    return _render_builder(get_project_for_user(current_user, project_id))


@bp.post("/projects/<id:project_id>/live/url")
@login_required
def build_url(project_id: int):
    """A signed live URL and its preview: the fragment for htmx, the whole page otherwise."""
    project = get_project_for_user(current_user, project_id)
    form = {name: request.form.get(name, "") for name in ("prompt", "aspect_ratio", "resolution")}
    url, error, status = None, None, 200
    try:
        url = service.signed_live_url(project, form["prompt"], form["aspect_ratio"], form["resolution"])
    except ApiError as refused:
        error, status = refused.message, refused.status
    if request.htmx:
        return render_template("live/_url.html", project=project, form=form, url=url, url_error=error), status
    return _render_builder(project, form=form, url=url, url_error=error), status


@bp.post("/projects/<id:project_id>/live/settings")
@login_required
def update_settings(project_id: int):
    project = get_project_for_user(current_user, project_id)
    try:
        service.update_live_settings(project, request.form.get("allowed_origins", ""), request.form.get("miss_budget", ""))
    except ApiError as refused:
        return _render_builder(project, settings_error=refused.message, settings_form=request.form), refused.status
    db.session.commit()
    flash("Live URL settings saved.")
    return redirect(url_for("live.builder", project_id=project.id))


@bp.post("/projects/<id:project_id>/live/rotate")
@login_required
def rotate_secret(project_id: int):
    project = get_project_for_user(current_user, project_id)
    service.rotate_live_secret(project)
    db.session.commit()
    flash("The live secret was rotated: URLs signed before now are refused. Build new ones below.")
    return redirect(url_for("live.builder", project_id=project.id))


def _render_builder(project, **context) -> str:
    return render_template(
        "live/builder.html",
        project=project,
        entries=service.recent_entries(project),
        misses=service.misses_this_hour(project),
        max_miss_budget=service.MAX_MISS_BUDGET,
        **{"form": {}, "url": None, "url_error": None, "settings_error": None, "settings_form": None, **context},
    )
