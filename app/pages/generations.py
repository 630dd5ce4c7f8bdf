"""Generations: start one from a photo's page or the API, follow it live, read it back."""
import time

from flask import Blueprint, Response, g, jsonify, redirect, render_template, request, stream_with_context, url_for
from flask_login import current_user, login_required

from app.apidocs.schemas import validate
from app.auth.api import api_key_required, json_body, optional_json_body
from app.catalog.words import STATUS_FILTERS
from app.errors import ApiError
from app.extensions import csrf, db
from app.formkeys import form_key_of, once_per_key
from app.generations import lifecycle, page_keys, progress, samples, service
from app.generations.estimates import queue_estimates
from app.generations.models import Generation
from app.generations.serializers import generation_json, generations_json
from app.generations.spec import GenerationSpec
from app.idempotency import api as idempotency
from app.idempotency.api import idempotent
from app.images.service import get_image_for_user
from app.pagination import flag, page_params, page_response
from app.projects.service import get_project_for_user
from app.sse import SSE_HEADERS, sse_event
from app.versions import service as versions

bp = Blueprint("generations", __name__)

# A stream is closed after this long; the browser reconnects and gets the current state first.
SSE_MAX_SECONDS = 600
SSE_REREAD_SECONDS = 15

@bp.post("/images/<image_id>/generations")
@login_required
def create(image_id: str):
    image = get_image_for_user(current_user, image_id)
    project = get_project_for_user(current_user, image.project_id)
    form_key = form_key_of(request.form)
    # The same preset button sent again (a second click, a resubmitted page) answers the work it started.
    generation = once_per_key(
        lambda: page_keys.generation_for_key(project.id, form_key),
        lambda: page_keys.remember_key(
            service.create_generation(project, GenerationSpec.from_form(request.form, image.id), user=current_user),
            form_key,
        ),
    )
    if request.htmx:
        # The button's form gets a new key: a later click is a new request for another variation.
        return _render_generation("generations/_generation.html", generation, source=image) + render_template(
            "generations/_form_key.html", key_id=f"generate-key-{request.form.get('preset', '')}", oob=True)
    return redirect(url_for("generations.detail", generation_id=generation.id))


@bp.get("/presets")
def presets():
    """The preset catalogue with a before/after of each on a sample photo."""
    offers = {offer.preset.id: offer for offer in service.preset_offers()}
    return render_template("generations/presets.html", catalogue=samples.catalogue(), offers=offers)


@bp.get("/projects/<id:project_id>/generations")
@login_required
def index(project_id: int):
    """The project's generations, newest first, filtered by status."""
    project = get_project_for_user(current_user, project_id)
    status = request.args.get("status") or None
    if status is not None and status not in STATUS_FILTERS:
        raise ApiError(f"Show one of: {', '.join(label for label, _ in STATUS_FILTERS.values())}, or all.")
    limit, offset = page_params(request.args)
    api_status = STATUS_FILTERS[status][1] if status else None
    page = service.list_generations(project, status=api_status, limit=limit, offset=offset)
    template = "generations/_table.html" if request.htmx else "generations/index.html"
    return render_template(template, project=project, page=page, status=status, status_filters=STATUS_FILTERS)


@bp.get("/generations/<generation_id>")
@login_required
def detail(generation_id: str):
    generation = service.get_generation_for_user(current_user, generation_id)
    if request.htmx and request.args.get("seen") == generation.status.value:
        # The component's fallback check (for when its live stream drops): nothing new, nothing to swap.
        return "", 204
    template = "generations/_generation.html" if request.htmx else "generations/detail.html"
    return _render_generation(template, generation)


def _render_generation(template: str, generation: Generation, source=None) -> str:
    """A generation's page or fragment, with its outputs and estimate read here so the template does no I/O."""
    generation = db.session.get(Generation, generation.id, options=[service.WITH_OUTPUTS], populate_existing=True)
    source = source or _first_reference(generation)
    return render_template(
        template, generation=generation, source=source, estimates=queue_estimates([generation]),
        download_stem=versions.download_stem(source) if source is not None else None,
        final_id=versions.final_version(source).id if source is not None else None,
    )


def _first_reference(generation: Generation):
    if not generation.reference_image_ids:
        return None
    try:
        return get_image_for_user(current_user, generation.reference_image_ids[0])
    except ApiError:
        return None


@bp.get("/generations/<generation_id>/events")
@login_required
def events(generation_id: str):
    """Server-sent events: the generation's body now, then again each time the worker reports."""
    generation = service.get_generation_for_user(current_user, generation_id)
    source = _first_reference(generation)
    listener = progress.listen(generation.id)

    def render_current() -> tuple[str, bool]:
        # The event's name and body come from one read, so "done" always carries the finished body.
        body, finished = progress.fresh_read(
            generation_id, lambda current: _render_generation("generations/_body.html", current, source=source)
        )
        return sse_event("done" if finished else "progress", body), finished

    def stream():
        deadline = time.monotonic() + SSE_MAX_SECONDS
        try:
            event, finished = render_current()
            yield event
            while not finished and time.monotonic() < deadline:
                # A quiet while (or a missed message) re-reads the row too; the page shows the same state again.
                listener.wait(SSE_REREAD_SECONDS)
                event, finished = render_current()
                yield event
        finally:
            listener.close()

    return Response(stream_with_context(stream()), mimetype="text/event-stream", headers=SSE_HEADERS)


@bp.post("/generations/<generation_id>/cancel")
@login_required
def cancel(generation_id: str):
    generation = service.get_generation_for_user(current_user, generation_id)
    lifecycle.request_cancel(generation)
    db.session.commit()
    if request.htmx:
        return _render_generation("generations/_generation.html", generation)
    return redirect(url_for("generations.detail", generation_id=generation.id))


@bp.post("/api/v1/generations")
@csrf.exempt
@api_key_required
@idempotent
def api_create():
    """Create a generation; without flowId it starts a new flow, whose id is returned."""
    body = validate("GenerationCreate", json_body())
    generation = service.create_generation(g.project, GenerationSpec.from_api(body), api_key=g.api_key)
    answered = idempotency.answer({"success": True, "data": generation_json(generation)}, 201)
    db.session.commit()
    return answered


@bp.get("/api/v1/generations")
@api_key_required
def api_list():
    """List generations (filters flowId, status pending/processing/success/failed, includeDeleted)."""
    limit, offset = page_params(request.args)
    page = service.list_generations(
        g.project,
        flow_id=request.args.get("flowId"),
        status=request.args.get("status"),
        include_deleted=flag(request.args, "includeDeleted"),
        limit=limit,
        offset=offset,
    )
    return page_response(page, generations_json(page.items))


@bp.post("/api/v1/generations/<generation_id>/retry")
@csrf.exempt
@api_key_required
@idempotent
def api_retry(generation_id: str):
    """Run a finished generation again as a new one (optional prompt / aspectRatio overrides)."""
    body = validate("GenerationRetry", optional_json_body())
    generation = service.retry_generation(
        g.project,
        service.get_generation(g.project, generation_id),
        prompt=body.get("prompt"),
        aspect_ratio=body.get("aspectRatio"),
        api_key=g.api_key,
    )
    answered = idempotency.answer({"success": True, "data": generation_json(generation)}, 201)
    db.session.commit()
    return answered


@bp.delete("/api/v1/generations/<generation_id>")
@csrf.exempt
@api_key_required
def api_delete(generation_id: str):
    """Soft-delete a generation and its output; ?hard=true also deletes the stored files."""
    hard = flag(request.args, "hard")
    generation = service.get_generation(g.project, generation_id, include_deleted=hard)
    service.delete_generation(generation, hard=hard)
    db.session.commit()
    return jsonify(success=True, data={"id": generation.id, "deleted": True})


@bp.post("/api/v1/generations/<generation_id>/cancel")
@csrf.exempt
@api_key_required
def api_cancel(generation_id: str):
    """Cancel: a queued generation at once (refunded); a running one at its next step if the provider allows."""
    generation = service.get_generation(g.project, generation_id)
    lifecycle.request_cancel(generation)
    db.session.commit()
    return jsonify(success=True, data=generation_json(generation))


@bp.get("/api/v1/generations/<generation_id>")
@api_key_required
def api_detail(generation_id: str):
    return jsonify(success=True, data=generation_json(service.get_generation(g.project, generation_id)))
