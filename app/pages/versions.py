"""Choosing a photo's final version on its page: keep one, undo, try a preset or prompt again."""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from htmx_flask import make_response

from app.extensions import db
from app.formkeys import form_key_of, once_per_key
from app.generations import page_keys
from app.generations import service as generations
from app.generations.estimates import queue_estimates
from app.images.service import get_image_for_user
from app.projects.service import get_project_for_user
from app.versions import service

bp = Blueprint("versions", __name__)
# What made a version (a generation, or None for the original), in an agent's words, on every page.
bp.add_app_template_filter(service.made_by, "made_by")


@bp.post("/images/<image_id>/keep")
@login_required
def keep(image_id: str):
    """Keep one of the photo's versions (form field `version`); the page then offers to undo it."""
    photo = get_image_for_user(current_user, image_id)
    previous = service.final_version(photo)
    kept = service.keep_version(photo, request.form.get("version", ""))
    db.session.commit()
    if kept.id == photo.id:
        flash("Back to the original: it is the version you download now.")
    else:
        flash("Kept this version: it is the one you download now.")
    undo = previous.id if previous.id != kept.id else None
    return redirect(url_for("images.detail", image_id=photo.id, undo=undo, _anchor="final-version"))


@bp.post("/generations/<generation_id>/again")
@login_required
def again(generation_id: str):
    """Run a finished generation's preset or prompt again on the same photo (a new variation, charged again)."""
    original = generations.get_generation_for_user(current_user, generation_id)
    project = get_project_for_user(current_user, original.project_id)
    form_key = form_key_of(request.form)
    # The same "Try again" sent again (a second click, a resubmitted page) answers the variation it started.
    generation = once_per_key(
        lambda: page_keys.generation_for_key(project.id, form_key),
        lambda: page_keys.remember_key(generations.retry_generation(project, original, user=current_user), form_key),
    )
    if not request.htmx:
        target = generation.source_image_id
        return redirect(url_for("images.detail", image_id=target) if target else url_for(
            "generations.detail", generation_id=generation.id))
    source = get_image_for_user(current_user, generation.source_image_id) if generation.source_image_id else None
    body = render_template(
        "generations/_generation.html", generation=generation, source=source,
        estimates=queue_estimates([generation]), download_stem=service.download_stem(source) if source else None,
        final_id=service.final_version(source).id if source else None,
    )
    # The original's "Try again" gets a new key: a later click asks for another variation.
    body += render_template("generations/_form_key.html", key_id=f"again-key-{original.id}", oob=True)
    return make_response(body, trigger="balance-changed")
