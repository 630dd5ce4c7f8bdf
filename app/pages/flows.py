"""Flows: the v1 flows API and the flow timeline page."""
from flask import Blueprint, g, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from app.apidocs.schemas import validate
from app.auth.api import api_key_required, json_body, optional_json_body
from app.errors import ApiError
from app.extensions import csrf, db
from app.flows import service
from app.generations.flow_serializers import flow_counts, flow_json, flows_json
from app.generations.serializers import generation_json
from app.generations.service import flow_timeline, list_generations
from app.images.serializers import image_json
from app.images.service import list_images
from app.pagination import flag, page_params, page_response
from app.projects.service import get_project_for_user

bp = Blueprint("flows", __name__)


@bp.get("/projects/<id:project_id>/flows")
@login_required
def index(project_id: int):
    project = get_project_for_user(current_user, project_id)
    page = service.list_flows(project, 100, 0)
    counts = flow_counts(page.items)
    return render_template("flows/index.html", project=project, flows=page.items, counts=counts, total=page.total)


@bp.get("/flows/<flow_id>")
@login_required
def detail(flow_id: str, error: str | None = None, status: int = 200):
    """A flow as a timeline of its generations, with its aliases (editable)."""
    flow = service.get_flow_for_user(current_user, flow_id)
    project = get_project_for_user(current_user, flow.project_id)
    images = list_images(project, flow_id=flow.id, limit=100).items
    return render_template(
        "flows/detail.html", flow=flow, project=project, timeline=flow_timeline(flow), images=images, error=error
    ), status


@bp.post("/flows/<flow_id>/aliases")
@login_required
def set_alias(flow_id: str):
    flow = service.get_flow_for_user(current_user, flow_id)
    project = get_project_for_user(current_user, flow.project_id)
    try:
        service.merge_aliases(project, flow, {request.form.get("alias", "").strip(): request.form.get("image_id", "")})
    except ApiError as error:
        db.session.rollback()
        return detail(flow_id, error=error.message, status=error.status)
    db.session.commit()
    return redirect(url_for("flows.detail", flow_id=flow.id))


@bp.post("/flows/<flow_id>/aliases/<alias>/delete")
@login_required
def remove_alias(flow_id: str, alias: str):
    flow = service.get_flow_for_user(current_user, flow_id)
    service.delete_alias(flow, alias)
    db.session.commit()
    return redirect(url_for("flows.detail", flow_id=flow.id))


@bp.get("/api/v1/flows")
@api_key_required
def api_list():
    """List the project's flows, newest first."""
    limit, offset = page_params(request.args)
    page = service.list_flows(g.project, limit, offset)
    return page_response(page, flows_json(page.items))


@bp.post("/api/v1/flows")
@csrf.exempt
@api_key_required
def api_create():
    """Create a flow explicitly (generations without flowId create one themselves)."""
    body = validate("FlowCreate", optional_json_body())
    flow = service.create_flow(g.project, meta=body.get("meta"), aliases=body.get("aliases"))
    db.session.commit()
    return jsonify(success=True, data=flow_json(flow)), 201


@bp.get("/api/v1/flows/<flow_id>")
@api_key_required
def api_detail(flow_id: str):
    """One flow: meta, aliases, generation and image counts."""
    return jsonify(success=True, data=flow_json(service.get_flow(g.project, flow_id)))


@bp.get("/api/v1/flows/<flow_id>/generations")
@api_key_required
def api_generations(flow_id: str):
    """The flow's generations, newest first."""
    flow = service.get_flow(g.project, flow_id)
    limit, offset = page_params(request.args)
    page = list_generations(
        g.project, flow_id=flow.id, include_deleted=flag(request.args, "includeDeleted"), limit=limit, offset=offset
    )
    return page_response(page, [generation_json(generation) for generation in page.items])


@bp.get("/api/v1/flows/<flow_id>/images")
@api_key_required
def api_images(flow_id: str):
    """The flow's images, newest first."""
    flow = service.get_flow(g.project, flow_id)
    limit, offset = page_params(request.args)
    page = list_images(
        g.project, flow_id=flow.id, include_deleted=flag(request.args, "includeDeleted"), limit=limit, offset=offset
    )
    return page_response(page, [image_json(image) for image in page.items])


@bp.put("/api/v1/flows/<flow_id>/aliases")
@csrf.exempt
@api_key_required
def api_update_aliases(flow_id: str):
    """Merge aliases into the flow; every value must be an image id of the project."""
    body = json_body()
    aliases = validate("FlowAliases", body.get("aliases", body))  # a bare map, or wrapped in "aliases"
    flow = service.merge_aliases(g.project, service.get_flow(g.project, flow_id), aliases)
    db.session.commit()
    return jsonify(success=True, data=flow_json(flow))


@bp.delete("/api/v1/flows/<flow_id>/aliases/<alias>")
@csrf.exempt
@api_key_required
def api_delete_alias(flow_id: str, alias: str):
    """Remove one alias from the flow."""
    flow = service.delete_alias(service.get_flow(g.project, flow_id), alias)
    db.session.commit()
    return jsonify(success=True, data=flow_json(flow))


@bp.delete("/api/v1/flows/<flow_id>")
@csrf.exempt
@api_key_required
def api_delete(flow_id: str):
    """Delete the flow; its generations and images remain."""
    flow = service.get_flow(g.project, flow_id)
    service.delete_flow(flow)
    db.session.commit()
    return jsonify(success=True, data={"id": flow_id, "deleted": True})
