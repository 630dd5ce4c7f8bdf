"""The v1 images API (Banatie-compatible): upload, list, read, update, alias, delete and resolve, with an API key."""
import json

from flask import Blueprint, g, jsonify, request

from app.apidocs.schemas import validate
from app.auth.api import api_key_required, json_body
from app.errors import ApiError
from app.extensions import csrf, db
from app.flows import service as flows
from app.guards import check_json_text
from app.images import service
from app.images.aliases import resolve_alias, set_project_alias
from app.images.serializers import image_json
from app.pagination import flag, page_params, page_response

bp = Blueprint("images_api", __name__)


@bp.post("/api/v1/images/upload")
@csrf.exempt
@api_key_required
def upload():
    """Upload a photo (multipart `file`; optional alias, flowId, flowAlias, meta as JSON text)."""
    files = list(request.files.items(multi=True))
    if len(files) > 1:
        raise ApiError(
            f"Send one photo per request, in the form field 'file' ({len(files)} files were sent); "
            "to upload several, make one request for each."
        )
    file = request.files.get("file")
    if file is None:
        raise ApiError("Send the photo as a multipart form field named 'file'.")
    if not file.filename:
        raise ApiError("The photo was sent without a file name; send it with one, e.g. filename=\"kitchen.jpg\".")
    flow_id = request.form.get("flowId")
    image = service.upload_image(
        g.project,
        file.read(),
        file.filename,
        meta=_form_json("meta"),
        alias=request.form.get("alias") or None,
        flow=flows.get_flow(g.project, flow_id) if flow_id else None,
        flow_alias=request.form.get("flowAlias") or None,
    )
    db.session.commit()
    return jsonify(success=True, data=image_json(image)), 201


def _form_json(field: str) -> dict | None:
    raw = request.form.get(field)
    if not raw:
        return None
    check_json_text(raw)
    try:
        value = json.loads(raw)
    except ValueError:
        raise ApiError(f"{field} must be a JSON object.") from None
    if not isinstance(value, dict):
        raise ApiError(f"{field} must be a JSON object.")
    return value


@bp.get("/api/v1/images")
@api_key_required
def list_images():
    """List images (filters flowId, source, alias, includeDeleted; limit/offset)."""
    limit, offset = page_params(request.args)
    page = service.list_images(
        g.project,
        flow_id=request.args.get("flowId"),
        source=request.args.get("source"),
        alias=request.args.get("alias"),
        include_deleted=flag(request.args, "includeDeleted"),
        limit=limit,
        offset=offset,
    )
    return page_response(page, [image_json(image) for image in page.items])


@bp.get("/api/v1/images/<image_id>")
@api_key_required
def detail(image_id: str):
    """One image, with a fresh signed URL."""
    return jsonify(success=True, data=image_json(service.get_image(g.project, image_id)))


@bp.put("/api/v1/images/<image_id>")
@csrf.exempt
@api_key_required
def update(image_id: str):
    """Change an image's alias (null removes it), focalPoint {x, y} or meta."""
    image = service.update_image(g.project, service.get_image(g.project, image_id), validate("ImageUpdate", json_body()))
    db.session.commit()
    return jsonify(success=True, data=image_json(image))


@bp.put("/api/v1/images/<image_id>/alias")
@csrf.exempt
@api_key_required
def set_alias(image_id: str):
    """Set or remove (null) an image's project alias."""
    body = validate("ImageAlias", json_body())
    if "alias" not in body:
        raise ApiError("Send {\"alias\": \"@name\"}, or null to remove the alias.")
    image = set_project_alias(g.project, service.get_image(g.project, image_id), body["alias"])
    db.session.commit()
    return jsonify(success=True, data=image_json(image))


@bp.delete("/api/v1/images/<image_id>")
@csrf.exempt
@api_key_required
def delete(image_id: str):
    """Soft-delete an image; ?hard=true also removes its files."""
    hard = flag(request.args, "hard")
    image = service.get_image(g.project, image_id, include_deleted=hard)
    service.delete_image(image, hard=hard)
    db.session.commit()
    return jsonify(success=True, data={"id": image.id, "deleted": True})


@bp.get("/api/v1/images/resolve/<alias>")
@api_key_required
def resolve(alias: str):
    """Resolve an alias: technical (@last, @first, @upload) → flow (?flowId=) → project."""
    flow_id = request.args.get("flowId")
    flow = flows.get_flow(g.project, flow_id) if flow_id else None
    image, scope = resolve_alias(g.project, alias, flow)
    return jsonify(success=True, data={"image": image_json(image), "scope": scope, "flowId": flow_id, "alias": alias})
