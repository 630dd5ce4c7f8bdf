"""Callbacks from AI providers. The job waiting on a provider reads the authoritative record itself,
so a callback only tells open pages to look again: duplicates and late arrivals change nothing.
"""
from flask import Blueprint, jsonify, request

from app.errors import ApiError
from app.extensions import csrf
from app.generations import progress
from app.generations.service import find_by_upstream_request

bp = Blueprint("upstreams", __name__)


@bp.post("/webhooks/nanobanana")
@csrf.exempt
def nanobanana_callback():
    """nanobananaapi.ai's callBackUrl: {code, msg, data: {taskId, info: {resultImageUrl}}}."""
    body = request.get_json(silent=True)
    data = body.get("data") if isinstance(body, dict) else None
    task_id = data.get("taskId") if isinstance(data, dict) else None
    if not isinstance(task_id, str) or not task_id or len(task_id) > 255:
        raise ApiError("Send the callback as JSON with data.taskId.")
    generation = find_by_upstream_request("nanobanana", task_id)
    if generation is None:
        raise ApiError("No generation is waiting for this taskId.", status=404, code="not_found")
    progress.publish(generation.id, generation.project_id, status=generation.status.value)
    return jsonify(code=200, msg="success")
