"""The studio on a listing's page: the apply bar, batches, retries, saved presets and the live watch."""
import time

from flask import Blueprint, Response, redirect, render_template, request, stream_with_context, url_for
from flask_login import current_user, login_required
from htmx_flask import make_response

from app.errors import ApiError
from app.extensions import db
from app.formkeys import form_key_of, once_per_key
from app.generations import progress
from app.projects.models import Project
from app.projects.service import get_project_for_user
from app.sse import SSE_HEADERS, sse_event
from app.studio import cards, saved, service

bp = Blueprint("studio", __name__)

# A watch is closed after this long; the browser reconnects and gets the current state first.
WATCH_MAX_SECONDS = 600
# A quiet while re-reads the listing too (and sends a keep-alive when nothing changed).
WATCH_REREAD_SECONDS = 15
KEEP_ALIVE = ": still watching\n\n"
# Tells the page's balance (and the bar's price line) to look again.
BALANCE_CHANGED = {"balance-changed": True}
# A batch started: the page clears the photos chosen for it (studio-select.js).
BATCH_STARTED = {"batch-started": True, **BALANCE_CHANGED}


@bp.get("/projects/<id:project_id>/studio")
@login_required
def bar(project_id: int):
    """The apply bar, loaded by the listing page."""
    project = get_project_for_user(current_user, project_id)
    return render_template("studio/_bar.html", project=project, bar=service.apply_bar(project))


@bp.post("/projects/<id:project_id>/studio/quote")
@login_required
def quote(project_id: int):
    """The bar's price line for the chosen preset and the selected photos."""
    project = get_project_for_user(current_user, project_id)
    return render_template("studio/_quote.html", project=project, quote=service.quote_for_form(project, request.form))


@bp.post("/projects/<id:project_id>/studio/batches")
@login_required
def apply(project_id: int):
    """Apply the bar's choice to the selected photos as one batch."""
    project = get_project_for_user(current_user, project_id)
    try:
        batch = once_per_key(lambda: service.batch_for_key(project, form_key_of(request.form)),
                             lambda: service.apply_from_form(project, current_user, request.form))
    except ApiError as error:
        # A photo of another workspace is refused with 404 too, and belongs in the bar like any refusal.
        return _refusal_in_bar(error, missing_row_raises=False)
    if not request.htmx:
        return redirect(url_for("projects.detail", project_id=project_id))
    body = render_template("studio/_applied.html", project=project, batch=batch, watch=cards.snapshot(project),
                           quote=service.quote_after_batch(project, request.form))
    # After the swap: the selection is cleared first, then the price line and the balance look again.
    return make_response(body, trigger_after_settle=BATCH_STARTED)


@bp.post("/projects/<id:project_id>/studio/retry/<generation_id>")
@login_required
def retry(project_id: int, generation_id: str):
    """Run a photo's failed (or finished) work again; its card shows the new work."""
    project = get_project_for_user(current_user, project_id)
    try:
        form_key = form_key_of(request.form)
        generation = once_per_key(lambda: service.retried_for_key(project, form_key),
                                  lambda: service.retry_work(project, current_user, generation_id, form_key))
    except ApiError as error:
        return _refusal_in_bar(error)
    if not request.htmx:
        return redirect(url_for("projects.detail", project_id=project_id))
    watch = cards.snapshot(project)
    photo = next((photo for photo in watch.photos if photo.id == generation.source_image_id), None)
    body = render_template("studio/_retried.html", project=project, image=photo, watch=watch,
                           state=watch.states.get(generation.source_image_id))
    return make_response(body, trigger=BALANCE_CHANGED)


@bp.post("/projects/<id:project_id>/studio/presets")
@login_required
def save_preset(project_id: int):
    """Save a prompt (from the bar or behind a result) as a preset of the workspace."""
    project = get_project_for_user(current_user, project_id)
    try:
        preset = service.save_from_form(project, current_user, request.form)
    except ApiError as error:
        return _refusal_in_bar(error)
    db.session.commit()
    return _choices(project, f"saved:{preset.id}", f"Saved “{preset.name}” for everyone in your workspace.")


@bp.post("/projects/<id:project_id>/studio/presets/<id:saved_id>/delete")
@login_required
def delete_preset(project_id: int, saved_id: int):
    project = get_project_for_user(current_user, project_id)
    saved.delete_saved_preset(project.workspace_id, saved_id)
    db.session.commit()
    return _choices(project, None, "Preset deleted.")


def _choices(project: Project, checked: str | None, message: str):
    """The bar's choices again (after a saved preset came or went), and its price line told to look again."""
    if not request.htmx:
        return redirect(url_for("projects.detail", project_id=project.id))
    body = render_template("studio/_choices.html", project=project, bar=service.apply_bar(project, checked),
                           message=message)
    return make_response(body, trigger_after_settle={"choice-changed": True})


def _refusal_in_bar(error: ApiError, missing_row_raises: bool = True):
    """A refused change, rolled back: shown next to the apply bar for htmx, raised for a form post (or a 404 row)."""
    db.session.rollback()
    if not request.htmx or (missing_row_raises and error.status == 404):
        raise error
    return _message_in_bar(error)


def _message_in_bar(error: ApiError):
    """An error shown next to the apply bar, where the agent is looking."""
    body = render_template("studio/_message.html", message=error.message, error=True)
    return make_response(body, error.status, retarget="#apply-message", reswap="innerHTML")


@bp.get("/projects/<id:project_id>/studio/events")
@login_required
def events(project_id: int):
    """Server-sent events: each photo card whose state changed and the batch's progress, until no work is left."""
    get_project_for_user(current_user, project_id)
    listener = progress.listen_to_project(project_id)

    def stream():
        sent: dict[str, str] = {}
        deadline = time.monotonic() + WATCH_MAX_SECONDS
        try:
            while True:
                frames, finished = _changes(project_id, sent)
                yield frames or KEEP_ALIVE
                if finished or time.monotonic() >= deadline:
                    return
                listener.wait(WATCH_REREAD_SECONDS)
                listener.drain()
        finally:
            listener.close()

    return Response(stream_with_context(stream()), mimetype="text/event-stream", headers=SSE_HEADERS)


def _changes(project_id: int, sent: dict[str, str]) -> tuple[str, bool]:
    """The events for what changed since `sent` (updated), and whether the work is over, from one fresh read."""
    db.session.expire_all()
    project = db.session.get(Project, project_id)
    watch = cards.snapshot(project)
    frames = []
    for photo in watch.photos:
        state = watch.states.get(photo.id)
        html = render_template("studio/_card_state.html", image=photo, state=state, project=project)
        if sent.get(photo.id, html if state is None else None) != html:
            frames.append(sse_event("card", html))
        sent[photo.id] = html
    bar_html = render_template("studio/_batch.html", project=project, progress=watch.batch, watching=watch.active)
    finished = not watch.active
    if finished:
        frames.append(sse_event("done", bar_html))
    elif sent.get("batch") != bar_html:
        frames.append(sse_event("batch", bar_html))
    sent["batch"] = bar_html
    db.session.rollback()
    return "".join(frames), finished
