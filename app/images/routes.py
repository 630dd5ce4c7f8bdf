"""Uploading photos (page and API), an image's page, and signed file downloads."""
from flask import Blueprint, abort, current_app, flash, g, jsonify, redirect, render_template, request, send_file, url_for
from flask_login import current_user, login_required

from app.auth.api import api_key_required
from app.errors import ApiError, is_htmx_request
from app.extensions import csrf, db
from app.generations.presets import PRESETS
from app.generations.service import generations_for_image
from app.images import service
from app.images.models import Image
from app.images.storage import file_url, storage, verify
from app.projects.service import get_project_for_user
from app.timeutil import isoformat

bp = Blueprint("images", __name__)


def image_json(image: Image) -> dict:
    """The API representation of an image, with signed URLs to its file and thumbnail."""
    return {
        "id": image.id,
        "projectId": image.project_id,
        "source": image.source,
        "url": file_url(image.storage_key, download_name=f"{image.id}.{image.extension}"),
        "thumbnailUrl": file_url(image.thumbnail_key) if image.thumbnail_key else None,
        "mimeType": image.mime,
        "width": image.width,
        "height": image.height,
        "fileSize": image.size_bytes,
        "sha256": image.sha256,
        "alias": image.alias,
        "originalFilename": image.original_filename,
        "generationId": image.generation_id,
        "meta": image.meta or {},
        "createdAt": isoformat(image.created_at),
    }


@bp.post("/projects/<id:project_id>/images")
@login_required
def upload(project_id: int):
    """Store every good photo of a multi-file upload and say what was wrong with the others."""
    project = get_project_for_user(current_user, project_id)
    files = [f for f in request.files.getlist("photos") if f and f.filename]
    if not files:
        raise ApiError("Choose one or more JPEG, PNG or WebP photos to upload.")
    if len(files) > current_app.config["MAX_FILES_PER_UPLOAD"]:
        raise ApiError(f"Upload at most {current_app.config['MAX_FILES_PER_UPLOAD']} photos at a time.")
    uploaded, errors = [], []
    for file in files:
        try:
            uploaded.append(service.upload_image(project, file.read(), file.filename))
        except ApiError as error:
            errors.append(error.message)
    db.session.commit()
    if is_htmx_request():
        images = service.project_images(project, source="uploaded")
        return render_template("images/_grid.html", project=project, images=images, errors=errors, uploaded=uploaded)
    if uploaded:
        flash(f"Uploaded {len(uploaded)} photo{'s' if len(uploaded) != 1 else ''}.")
    for message in errors:
        flash(message, "error")
    return redirect(url_for("projects.detail", project_id=project.id))


@bp.get("/images/<image_id>")
@login_required
def detail(image_id: str):
    image = service.get_image_for_user(current_user, image_id)
    return render_template(
        "images/detail.html",
        image=image,
        project=get_project_for_user(current_user, image.project_id),
        presets=PRESETS,
        generations=generations_for_image(image),
    )


@bp.get("/files/<path:key>")
def file(key: str):
    """Serve a stored file to whoever holds a valid, unexpired signature for it."""
    if not verify(key, request.args.get("expires"), request.args.get("sig")):
        abort(403, "This link has expired or is not valid; reload the page for a fresh one.")
    try:
        path = storage().path(key)
    except ValueError:
        abort(404)
    if not path.is_file():
        abort(404)
    download_name = request.args.get("download")
    return send_file(path, as_attachment=bool(download_name), download_name=download_name or None, max_age=300)


@bp.post("/api/v1/images/upload")
@csrf.exempt
@api_key_required
def api_upload():
    file = request.files.get("file")
    if file is None or not file.filename:
        raise ApiError("Send the photo as a multipart form field named 'file'.")
    image = service.upload_image(g.project, file.read(), file.filename)
    db.session.commit()
    return jsonify(success=True, data=image_json(image)), 201


@bp.get("/api/v1/images/<image_id>")
@api_key_required
def api_detail(image_id: str):
    return jsonify(success=True, data=image_json(service.get_image(g.project, image_id)))
