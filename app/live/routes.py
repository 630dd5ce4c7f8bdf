"""Live URLs: an image for a prompt, generated once and then served from the project's cache; the builder page."""
import time

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy.exc import IntegrityError

from app.auth.api import api_key_from_request
from app.auth.service import find_api_key
from app.errors import ApiError
from app.extensions import db
from app.generations import lifecycle, progress
from app.generations.models import Generation
from app.generations.service import create_generation
from app.imaging.geometry import RESOLUTIONS
from app.images.storage import storage
from app.live import service
from app.projects.service import get_project_for_user

bp = Blueprint("live", __name__)

CACHE_CONTROL = "public, max-age=31536000"
CLAIM_POLL_SECONDS = 0.05
# A safety net under pub/sub: the row is looked at again at least this often while waiting.
ROW_POLL_SECONDS = 2.0
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
    if plaintext:
        key = find_api_key(plaintext)
        db.session.commit()  # the key's last use is recorded whatever happens next
        project, api_key = key.project, key
    else:
        project, api_key = service.project_for_signature(project_id, sig, params), None
        service.check_origin(project, request.headers.get("Origin"), request.headers.get("Referer"), request.host)
    return _cached_or_generated(project, params, api_key)


def _cached_or_generated(project, params, api_key):
    """The cached image, or one generated once while identical concurrent requests wait for it."""
    deadline = time.monotonic() + _wait_seconds()
    while True:
        cached = service.find_cached(project, params)
        if cached:
            entry, image = cached
            service.record_hit(entry)
            db.session.commit()
            return _image_response(image, {"X-Cache-Status": "HIT", "X-Cache-Hit-Count": str(entry.hit_count)})
        generation_id = _start_or_join(project, params, api_key)
        if generation_id:
            break
        if time.monotonic() > deadline:
            raise _still_generating()
        time.sleep(CLAIM_POLL_SECONDS)
    generation = _wait_for_generation(generation_id, deadline)
    try:
        image = service.result_image(generation)
    except ApiError:
        service.release(project, params, generation_id)  # the next request tries again
        raise
    _store_entry(project, params, generation, image)
    service.release(project, params, generation_id)
    return _image_response(image, {"X-Cache-Status": "MISS", "X-Generation-Id": generation_id})


def _start_or_join(project, params, api_key) -> str | None:
    """The generation making this image: a new one if we win the claim, else the winner's (None while unknown)."""
    token = service.claim(project, params)
    if token is None:
        return service.announced_generation(project, params)
    try:
        generation = create_generation(
            project, prompt=params.prompt, aspect_ratio=params.aspect_ratio, resolution=params.resolution,
            api_key=api_key,
        )
        service.spend_miss(project)
        db.session.commit()
    except Exception:
        db.session.rollback()
        service.release(project, params, token)
        raise
    service.announce(project, params, generation.id)
    lifecycle.dispatch(generation)
    return generation.id


def _wait_for_generation(generation_id: str, deadline: float) -> Generation | None:
    """Wait until the generation reaches a terminal status (None if it was deleted); 504 at the deadline."""
    # Subscribed before the row is read, so a change committed in between is not missed.
    subscription = progress.subscribe(generation_id)
    try:
        while True:
            generation = db.session.get(Generation, generation_id)
            if generation is None or generation.is_terminal:
                return generation
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise _still_generating()
            # Expire what was read and give the connection back while waiting; the next look reads afresh.
            db.session.rollback()
            subscription.get_message(timeout=min(remaining, ROW_POLL_SECONDS))
    finally:
        subscription.close()


def _store_entry(project, params, generation, image) -> None:
    """Cache the result; a concurrent request that cached it first is just as good."""
    try:
        service.record_entry(project, params, generation, image)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()


def _still_generating() -> ApiError:
    seconds = _wait_seconds()
    return ApiError(
        f"The image is still being generated after {seconds:g} seconds; request the same URL again "
        "shortly and it will be returned once ready.",
        status=504, code="timeout", headers={"Retry-After": "5"},
    )


def _wait_seconds() -> float:
    return float(current_app.config["LIVE_WAIT_SECONDS"])


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
        aspect_ratios=service.ASPECT_RATIOS,
        resolutions=list(RESOLUTIONS),
        **{"form": {}, "url": None, "url_error": None, "settings_error": None, "settings_form": None, **context},
    )
