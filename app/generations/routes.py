"""Generations: start one from a photo's page or the API, follow it live, read it back."""
import time

from flask import Blueprint, Response, g, jsonify, redirect, render_template, request, stream_with_context, url_for
from flask_login import current_user, login_required

from app.apidocs.schemas import validate
from app.auth.api import api_key_required, json_body
from app.errors import ApiError
from app.extensions import csrf, db
from app.generations import lifecycle, progress, samples, service
from app.generations.models import Generation
from app.generations.serializers import generation_json
from app.idempotency import idempotent
from app.images.service import get_image_for_user
from app.pagination import flag, page_params, page_response
from app.projects.service import get_project_for_user

bp = Blueprint("generations", __name__)

# A stream is closed after this long; the browser reconnects and gets the current state first.
SSE_MAX_SECONDS = 600
SSE_KEEPALIVE_SECONDS = 15

@bp.post("/images/<image_id>/generations")
@login_required
def create(image_id: str):
    image = get_image_for_user(current_user, image_id)
    project = get_project_for_user(current_user, image.project_id)
    generation = service.create_generation(
        project,
        prompt=request.form.get("prompt"),
        preset_id=request.form.get("preset") or None,
        reference_ids=[image.id],
        user=current_user,
        aspect_ratio=request.form.get("aspect_ratio") or None,
        resolution=request.form.get("resolution") or None,
        output_format=request.form.get("output_format") or None,
        watermark=request.form.get("watermark") or None,
    )
    db.session.commit()
    lifecycle.dispatch(generation)
    if request.htmx:
        return render_template("generations/_generation.html", generation=generation, source=image)
    return redirect(url_for("generations.detail", generation_id=generation.id))


@bp.get("/presets")
def presets():
    """The preset catalogue with a before/after of each on a sample photo."""
    return render_template("generations/presets.html", catalogue=samples.catalogue())


@bp.get("/projects/<id:project_id>/generations")
@login_required
def index(project_id: int):
    """The project's generations, newest first, filtered by status."""
    project = get_project_for_user(current_user, project_id)
    status = request.args.get("status") or None
    limit, offset = page_params(request.args)
    rows, total = service.list_generations(project, status=status, limit=limit, offset=offset)
    template = "generations/_table.html" if request.htmx else "generations/index.html"
    return render_template(template, project=project, generations=rows, total=total, status=status, limit=limit, offset=offset)


@bp.get("/generations/<generation_id>")
@login_required
def detail(generation_id: str):
    generation = service.get_generation_for_user(current_user, generation_id)
    source = _first_reference(generation)
    if request.htmx:
        return render_template("generations/_generation.html", generation=generation, source=source)
    return render_template("generations/detail.html", generation=generation, source=source)


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
    subscription = progress.subscribe(generation.id)

    def render_current() -> tuple[str, bool]:
        db.session.expire_all()
        current = db.session.get(Generation, generation_id)
        body = render_template("generations/_body.html", generation=current, source=source)
        db.session.rollback()  # end the read transaction while we wait
        return sse_event("done" if current.is_terminal else "progress", body), current.is_terminal

    def stream():
        deadline = time.monotonic() + SSE_MAX_SECONDS
        try:
            event, finished = render_current()
            yield event
            while not finished and time.monotonic() < deadline:
                if subscription.get_message(timeout=SSE_KEEPALIVE_SECONDS) is None:
                    yield ": keepalive\n\n"
                    continue
                event, finished = render_current()
                yield event
        finally:
            subscription.close()

    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return Response(stream_with_context(stream()), mimetype="text/event-stream", headers=headers)


def sse_event(name: str, html: str) -> str:
    """One server-sent event; every line of the payload gets its own data: prefix."""
    data = "\n".join(f"data: {line}" for line in html.splitlines() or [""])
    return f"event: {name}\n{data}\n\n"


@bp.post("/generations/<generation_id>/cancel")
@login_required
def cancel(generation_id: str):
    generation = service.get_generation_for_user(current_user, generation_id)
    lifecycle.request_cancel(generation)
    db.session.commit()
    _announce_change(generation)
    if request.htmx:
        return render_template("generations/_generation.html", generation=generation, source=_first_reference(generation))
    return redirect(url_for("generations.detail", generation_id=generation.id))


def _announce_change(generation: Generation) -> None:
    db.session.refresh(generation)
    progress.publish(generation)


@bp.post("/api/v1/generations")
@csrf.exempt
@api_key_required
@idempotent
def api_create():
    """Create a generation; without flowId it starts a new flow, whose id is returned."""
    body = validate("GenerationCreate", json_body())
    generation = service.create_generation(
        g.project,
        prompt=body.get("prompt"),
        preset_id=body.get("preset"),
        reference_ids=body.get("referenceImages") or [],
        api_key=g.api_key,
        provider_name=body.get("provider"),
        model=body.get("model"),
        priority=body.get("priority", 0),
        aspect_ratio=body.get("aspectRatio"),
        resolution=body.get("resolution"),
        num_images=body.get("numImages", 1),
        output_format=body.get("outputFormat"),
        watermark=body.get("watermark"),
        flow_id=body.get("flowId"),
        alias=body.get("alias", body.get("assignAlias")),
        flow_alias=body.get("flowAlias", body.get("assignFlowAlias")),
        auto_enhance=bool(body.get("autoEnhance")),
        meta=body.get("meta"),
    )
    db.session.commit()
    lifecycle.dispatch(generation)
    return jsonify(success=True, data=generation_json(generation)), 201


@bp.get("/api/v1/generations")
@api_key_required
def api_list():
    """List generations (filters flowId, status pending/processing/success/failed, includeDeleted)."""
    limit, offset = page_params(request.args)
    rows, total = service.list_generations(
        g.project,
        flow_id=request.args.get("flowId"),
        status=request.args.get("status"),
        include_deleted=flag(request.args, "includeDeleted"),
        limit=limit,
        offset=offset,
    )
    return page_response([generation_json(generation) for generation in rows], total, limit, offset)


@bp.post("/api/v1/generations/<generation_id>/retry")
@csrf.exempt
@api_key_required
@idempotent
def api_retry(generation_id: str):
    """Run a finished generation again as a new one (optional prompt / aspectRatio overrides)."""
    body = validate("GenerationRetry", request.get_json(silent=True) or {})
    generation = service.retry_generation(
        g.project,
        service.get_generation(g.project, generation_id),
        prompt=body.get("prompt"),
        aspect_ratio=body.get("aspectRatio"),
        api_key=g.api_key,
    )
    db.session.commit()
    lifecycle.dispatch(generation)
    return jsonify(success=True, data=generation_json(generation)), 201


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
    if generation.is_terminal:
        raise ApiError(f"The generation already ended ({generation.status.value}); there is nothing to cancel.", status=409, code="conflict")
    lifecycle.request_cancel(generation)
    db.session.commit()
    _announce_change(generation)
    return jsonify(success=True, data=generation_json(generation))


@bp.get("/api/v1/generations/<generation_id>")
@api_key_required
def api_detail(generation_id: str):
    return jsonify(success=True, data=generation_json(service.get_generation(g.project, generation_id)))
