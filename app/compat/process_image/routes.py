"""The process-image surface (AI Studio): prepare a photo's style prompt, process it, follow its status, inpaint.

POST /api/process-image runs the edit and answers with the result (the worker does the work; the
request waits on its announcements). An edit that ends within PROCESS_IMAGE_WAIT seconds is answered
with its own status (a failure is that API's 500 {error, details}, credits refunded); a longer one
holds the request, sending whitespace (allowed before a JSON value) to keep the connection alive,
and answers 200 with the same body once it ends: the spec has no status for "still running".
Callers authenticate with the session cookie or an API key.
"""
import json
import time
from functools import wraps

from flask import (
    Blueprint, Response, current_app, flash, g, jsonify, redirect, render_template, request, stream_with_context,
    url_for,
)
from flask_login import current_user, login_required

from app.auth.api import api_key_from_request, api_key_required
from app.compat.process_image import service
from app.compat.process_image.models import ImageGenerationRecord
from app.compat.process_image.serializers import record_json, result_url
from app.errors import ApiError
from app.extensions import csrf, db
from app.idempotency import api as idempotency
from app.idempotency.api import idempotent
from app.generations.models import Generation, GenerationStatus
from app.generations.progress import listen, wait_for_end
from app.images.service import get_image_for_user
from app.pagination import page_params, page_response
from app.projects.models import Project
from app.projects.service import get_project_for_user
from app.urls import public_url_for

bp = Blueprint("process_image", __name__)

KEEPALIVE_SECONDS = 10  # whitespace this often while a held request waits, well inside proxies' idle timeouts
HOLD_SECONDS = 3600  # a held request answers by then however the edit stands (the sweeper ends stuck jobs sooner)


def session_or_api_key(view):
    """An API key (with its rate limit and credit headers) or a logged-in person; 401 otherwise."""
    keyed = api_key_required(view)

    @wraps(view)
    def wrapper(*args, **kwargs):
        if api_key_from_request():
            return keyed(*args, **kwargs)
        if not current_user.is_authenticated:
            raise ApiError("Log in or send an API key.", status=401, code="unauthorized")
        if request.method == "POST" and not request.is_json:
            csrf.protect()  # a form post rides on the cookie, so it must carry the page's CSRF token
        g.api_key, g.project = None, None
        return view(*args, **kwargs)

    return wrapper


def idempotent_for_keys(view):
    """Idempotency-Key (per API project) for key holders; a person's session posts as it is."""
    keyed = idempotent(view)

    @wraps(view)
    def wrapper(*args, **kwargs):
        return keyed(*args, **kwargs) if g.api_key else view(*args, **kwargs)

    return wrapper


def _caller() -> dict:
    return {"user": None if g.api_key else current_user._get_current_object(), "api_key": g.api_key}


def _record(record_id):
    return service.get_record(g.project, record_id) if g.api_key else service.get_record_for_user(current_user, record_id)


def _project_for_new_record(body) -> Project:
    """An API key's own project; for a person, the project given, else the project of the photo."""
    if g.api_key:
        return g.project
    if body.get("projectId") is not None:
        return get_project_for_user(current_user, body.get("projectId"))
    if not body.get("imageId"):
        raise ApiError("Send projectId with an uploaded photo.")
    return db.session.get(Project, get_image_for_user(current_user, str(body["imageId"])).project_id)


def _body() -> dict:
    """The JSON object body, or a multipart form's fields."""
    if request.mimetype == "multipart/form-data":
        return request.form.to_dict()
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError("Send a JSON object body with Content-Type: application/json (or a multipart form).")
    return body


@bp.get("/api/process-image")
def health():
    """The health check: the surface answers and says how long a request waits for an edit."""
    return jsonify(status="ok", service="process-image", waitSeconds=current_app.config["PROCESS_IMAGE_WAIT"])


@bp.post("/api/image-generations")
@csrf.exempt
@session_or_api_key
@idempotent_for_keys
def create_record():
    """Prepare a photo (imageId, or a multipart `image` file) with its style prompt; processed later."""
    body = _body()
    project = _project_for_new_record(body)
    upload = request.files.get("image")
    record = service.prepare(
        project, body.get("prompt"), image_id=body.get("imageId"),
        upload=(upload.read(), upload.filename) if upload else None, **_caller(),
    )
    answered = idempotency.answer({"success": True, "data": record_json(record, project.workspace_id)}, 201)
    db.session.commit()
    return answered


@bp.get("/api/image-generations")
@session_or_api_key
def list_records():
    """A project's records, newest first (?status=pending|processing|completed|failed, limit, offset)."""
    project = g.project or get_project_for_user(current_user, request.args.get("projectId", type=int) or 0)
    limit, offset = page_params(request.args)
    page = service.list_records(project, status=request.args.get("status") or None, limit=limit, offset=offset)
    return page_response(page, [record_json(record, project.workspace_id) for record in page.items])


@bp.get("/api/image-generations/<record_id>")
@session_or_api_key
def record_status(record_id):
    """The image status endpoint: pending, processing, completed (with resultImageUrl) or failed (with errorMessage)."""
    record = _record(record_id)
    project = db.session.get(Project, record.project_id)
    return jsonify(success=True, data=record_json(record, project.workspace_id, service.completed_count(project.id)))


@bp.post("/api/process-image")
@csrf.exempt
@session_or_api_key
def process_image():
    """Run a prepared record's edit and answer with the result URL."""
    record_id = _body().get("imageId")
    if not record_id:
        raise ApiError("imageId is required: the id of the image generation to process.")
    record = _record(record_id)
    if record.status == "completed":
        url = result_url(record)
        return jsonify(success=True, message="Already processed", url=url, resultUrl=url)
    generation = service.process(record, **_caller())
    db.session.commit()
    return _outcome(record, generation)


@bp.post("/api/inpaint-image")
@csrf.exempt
@session_or_api_key
@idempotent_for_keys
def inpaint_image():
    """Change only the masked region of a photo: imageId (or an `image` file), prompt, and mask (white = change)."""
    body = _body()
    mask_file = request.files.get("mask")
    mask = mask_file.read() if mask_file else service.decode_data_url(body.get("mask") or body.get("maskDataUrl"), "mask")
    project = _project_for_new_record(body)
    upload = request.files.get("image")
    record = service.prepare(
        project, body.get("prompt"), image_id=body.get("imageId"),
        upload=(upload.read(), upload.filename) if upload else None, mask=mask, **_caller(),
    )
    generation = service.process(record, **_caller())
    idempotency.answer(*_still_processing(record))  # what a repeat of the key answers: where to follow it
    db.session.commit()
    return _outcome(record, generation)


def _still_processing(record) -> tuple[dict, int]:
    """What a repeat of an inpaint's Idempotency-Key answers: the edit's status URL (its result is there once done)."""
    status_url = public_url_for("process_image.record_status", record_id=record.id)
    return {"success": True, "status": "processing", "imageGenerationId": record.id,
            "message": "Already submitted; follow it at the statusUrl.", "statusUrl": status_url}, 200


def _outcome(record, generation):
    """The result, or 500 {error, details} if the edit failed; an edit still running after the wait is held for."""
    generation = wait_for_end(generation, current_app.config["PROCESS_IMAGE_WAIT"])
    db.session.refresh(record)
    if generation.is_terminal:
        body, status = _ended(record, generation)
        return jsonify(body), status
    held = stream_with_context(_held_answer(record.id, generation.id))
    return Response(held, status=200, mimetype="application/json", headers={"X-Accel-Buffering": "no"}), 200


def _ended(record, generation) -> tuple[dict, int]:
    """The answer for a finished edit: its result URL, or the spec's "Processing failed" with the reason."""
    if generation.status is GenerationStatus.SUCCEEDED:
        url = result_url(record)
        return {"success": True, "url": url, "resultUrl": url, "imageGenerationId": record.id}, 200
    details = generation.error_message or "The edit was canceled."
    return {"success": False, "error": "Processing failed", "details": details, "imageGenerationId": record.id}, 500


def _held_answer(record_id: str, generation_id: str):
    """Whitespace every KEEPALIVE_SECONDS until the edit ends, then its answer (a failure says so in the body)."""
    listener = listen(generation_id)
    deadline = time.monotonic() + HOLD_SECONDS
    try:
        while True:
            db.session.rollback()  # see what the worker committed since the last look
            generation = db.session.get(Generation, generation_id)
            if generation.is_terminal or time.monotonic() >= deadline:
                break
            yield " "
            listener.wait(KEEPALIVE_SECONDS)
    finally:
        listener.close()
    record = db.session.get(ImageGenerationRecord, record_id)
    if generation.is_terminal:
        yield json.dumps(_ended(record, generation)[0])
        return
    status_url = public_url_for("process_image.record_status", record_id=record_id)
    details = f"The edit has run for over {HOLD_SECONDS // 60} minutes; follow it at the statusUrl."
    yield json.dumps({"success": False, "error": "Still processing", "details": details,
                      "imageGenerationId": record_id, "statusUrl": status_url})


@bp.post("/images/<image_id>/prepare")
@login_required
def prepare_on_page(image_id):
    """The photo page's "prepare a style" form: keep the prompt with the photo, to process later."""
    image = get_image_for_user(current_user, image_id)
    project = db.session.get(Project, image.project_id)
    service.prepare(project, request.form.get("prompt"), image_id=image.id, user=current_user)
    db.session.commit()
    flash("Saved. Press “Process” when you want it done.")
    return redirect(url_for("images.detail", image_id=image.id, _anchor="prepared-styles"))


@bp.post("/image-generations/<record_id>/process")
@login_required
def process_on_page(record_id):
    """The photo page's "Process" button: start the prepared edit (the page follows it)."""
    record = service.get_record_for_user(current_user, record_id)
    service.process(record, user=current_user)
    db.session.commit()
    flash("Processing started.")
    return redirect(url_for("images.detail", image_id=record.image_id, _anchor="prepared-styles"))


@bp.get("/images/<image_id>/prepared")
@login_required
def prepared_on_page(image_id):
    """The photo page's list of prepared styles and their status (loaded into the page by htmx)."""
    image = get_image_for_user(current_user, image_id)
    return render_template("process_image/_prepared.html", image=image, records=service.records_for_image(image))
