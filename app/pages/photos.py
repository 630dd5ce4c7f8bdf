"""Images on the pages: uploading to a listing, the photo grid's actions, a photo's page, signed file downloads."""

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_login import current_user, login_required

from app.errors import ApiError
from app.extensions import db
from app.generations.estimates import queue_estimates
from app.generations.service import generations_for_image, preset_offers
from app.images import service
from app.images.storage import storage, verify
from app.listings import photos as listing
from app.projects.service import get_project_for_user
from app.studio.service import card_states
from app.versions import service as versions

bp = Blueprint("images", __name__)


def grid_context(project) -> dict:
    """What the listing's photo grid shows: photos in the agent's order, grouped by room, with their states."""
    images = service.listing_photos(project)
    return {
        "project": project,
        "images": images,
        "groups": listing.room_groups(images),
        "numbers": {image.id: number for number, image in enumerate(images, start=1)},
        "duplicates": listing.duplicates(images),
        "rooms": listing.ROOM_CHOICES,
        "states": card_states(project, images),
        "photo_name": service.photo_name,
        "next_position": max((image.position or 0 for image in images), default=0) + 1,
    }


def _grid_answer(project, message: str | None = None):
    """The grid for htmx; otherwise back to the listing page with the message."""
    if request.htmx:
        return render_template("images/_grid.html", **grid_context(project), notice=message)
    if message:
        flash(message)
    return redirect(url_for("projects.detail", project_id=project.id))


@bp.post("/projects/<id:project_id>/images")
@login_required
def upload(project_id: int):
    """Store every good photo of a multi-file upload and say what was wrong with the others."""
    project = get_project_for_user(current_user, project_id)
    files = [f for f in request.files.getlist("photos") if f and f.filename]
    if request.headers.get("X-Photo-Upload") == "one":
        return _upload_one(project, files)
    if not files:
        raise ApiError("Choose one or more JPEG, PNG, WebP or HEIC photos to upload.")
    if len(files) > current_app.config["MAX_FILES_PER_UPLOAD"]:
        raise ApiError(f"Upload at most {current_app.config['MAX_FILES_PER_UPLOAD']} photos at a time.")
    uploaded, errors = [], []
    for file in files:
        try:
            uploaded.append(service.upload_image(project, file.read(), file.filename))
        except ApiError as error:
            errors.append(error.message)
    db.session.commit()
    if request.htmx:
        return render_template("images/_grid.html", **grid_context(project), errors=errors, uploaded=uploaded)
    if uploaded:
        flash(f"Uploaded {len(uploaded)} photo{'s' if len(uploaded) != 1 else ''}.")
    for message in errors:
        flash(message, "error")
    return redirect(url_for("projects.detail", project_id=project.id))


def _upload_one(project, files):
    """One file of the page's drop zone: JSON saying how it went, for that file's line in the upload list."""
    if len(files) != 1:
        return jsonify(error="Send one photo per request."), 400
    file = files[0]
    try:
        position = request.form.get("position", type=int)
        image = service.upload_image(project, file.read(), file.filename, position=position)
    except ApiError as error:
        db.session.rollback()
        return jsonify(error=error.message), error.status
    same_as = listing.duplicate_of(project, image)
    db.session.commit()
    name = service.photo_name(image)
    message = f"Same photo as {same_as}: kept, delete it if you don't need it." if same_as else "Uploaded"
    return jsonify(id=image.id, name=name, room=image.room_type, duplicateOf=same_as, message=message), 201


@bp.get("/projects/<id:project_id>/photos")
@login_required
def grid(project_id: int):
    """The listing's photo grid (refreshed by the page after uploads)."""
    project = get_project_for_user(current_user, project_id)
    return render_template("images/_grid.html", **grid_context(project))


@bp.post("/projects/<id:project_id>/photos/delete")
@login_required
def delete_selection(project_id: int):
    """Delete the selected photos of the listing."""
    project = get_project_for_user(current_user, project_id)
    count = listing.delete_photos(project, request.form.getlist("image_ids"))
    db.session.commit()
    return _grid_answer(project, f"Deleted {count} photo{'s' if count != 1 else ''}.")


def _listing_photo(image_id: str):
    image = service.get_image_for_user(current_user, image_id)
    project = get_project_for_user(current_user, image.project_id)
    return project, listing.listing_photo(project, image.id)


@bp.post("/images/<image_id>/room")
@login_required
def set_room(image_id: str):
    """Set the room a photo shows."""
    project, image = _listing_photo(image_id)
    listing.set_room(image, request.form.get("room_type"))
    db.session.commit()
    return _grid_answer(project)


@bp.post("/images/<image_id>/title")
@login_required
def rename(image_id: str):
    """Give a photo a name of the agent's own."""
    project, image = _listing_photo(image_id)
    listing.rename_photo(image, request.form.get("title"))
    db.session.commit()
    return _grid_answer(project)


@bp.post("/images/<image_id>/move")
@login_required
def move(image_id: str):
    """Move a photo one place earlier or later within its room."""
    project, image = _listing_photo(image_id)
    listing.move_photo(project, image, request.form.get("direction", ""))
    db.session.commit()
    return _grid_answer(project)


@bp.post("/images/<image_id>/delete")
@login_required
def delete(image_id: str):
    """Delete one photo of the listing."""
    project, image = _listing_photo(image_id)
    name = service.photo_name(image)
    listing.delete_photos(project, [image.id])
    db.session.commit()
    return _grid_answer(project, f"Deleted {name}.")


@bp.get("/images/<image_id>")
@login_required
def detail(image_id: str):
    image = service.get_image_for_user(current_user, image_id)
    project = get_project_for_user(current_user, image.project_id)
    generations = generations_for_image(image)
    history = versions.history(image)
    final = versions.final_version(image) if history else image
    undo = request.args.get("undo")
    return render_template(
        "images/detail.html",
        image=image,
        name=service.photo_name(image),
        project=project,
        offers=preset_offers(project),
        generations=generations,
        estimates=queue_estimates(generations),
        history=history,
        final=final,
        final_generation=versions.generation_of(image, final),
        undo_version=next((v for v in history if v.image.id == undo and v.image.id != final.id), None),
        download_stem=versions.download_stem(image),
    )


@bp.post("/images/<image_id>/properties")
@login_required
def update_properties(image_id: str):
    """Set an image's alias and focal point from its page."""
    image = service.get_image_for_user(current_user, image_id)
    project = get_project_for_user(current_user, image.project_id)
    changes = {"alias": request.form.get("alias", "").strip() or None}
    if request.form.get("focal_x") is not None:
        changes["focalPoint"] = {"x": request.form.get("focal_x"), "y": request.form.get("focal_y")}
    try:
        service.update_image(project, image, changes)
    except ApiError as error:
        db.session.rollback()
        image = service.get_image_for_user(current_user, image_id)
        return render_template("images/_properties.html", image=image, error=error.message), error.status
    db.session.commit()
    db.session.refresh(image)  # the commit expired it: read it here, not from inside the template
    return render_template("images/_properties.html", image=image, saved=True)


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
    # Always an attachment (an <img> still shows it): a browser never opens a user's file as a page of ours.
    download_name = service.display_filename(request.args.get("download")) or path.name
    return send_file(path, as_attachment=True, download_name=download_name, max_age=300)
