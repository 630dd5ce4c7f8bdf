"""The v1 API's JSON shape of a generation."""
import sqlalchemy as sa

from app.extensions import db
from app.generations import service
from app.generations.models import Generation, GenerationStatus
from app.images.models import Image
from app.images.serializers import image_json
from app.timeutil import isoformat

API_STATUS = {
    GenerationStatus.QUEUED: "pending",
    GenerationStatus.PROCESSING: "processing",
    GenerationStatus.SUCCEEDED: "success",
    GenerationStatus.FAILED: "failed",
    GenerationStatus.CANCELED: "failed",
}


def generation_json(generation: Generation) -> dict:
    """The v1 API representation of a generation."""
    error = None
    if generation.status is GenerationStatus.CANCELED:
        error = {"code": "canceled", "message": "canceled"}
    elif generation.error_message:
        error = {"code": generation.error_code, "message": generation.error_message}
    outputs = [image_json(image) for image in generation.outputs if image.deleted_at is None]
    return {
        "id": generation.id,
        "projectId": generation.project_id,
        "status": API_STATUS[generation.status],
        "prompt": generation.prompt,
        "preset": generation.preset,
        "kind": generation.kind,
        "provider": generation.provider,
        "model": generation.model,
        "flowId": generation.flow_id,
        "referenceImages": [image_json(image) for image in _references(generation)],
        "alias": generation.assign_alias,
        "flowAlias": generation.assign_flow_alias,
        "autoEnhance": generation.original_prompt is not None,
        "originalPrompt": generation.original_prompt,
        "meta": generation.meta or {},
        "retryOf": generation.retry_of_id,
        "aspectRatio": generation.aspect_ratio,
        "resolution": generation.resolution,
        "numImages": generation.num_images,
        "outputFormat": generation.output_format,
        "watermark": generation.watermark,
        "placeholder": generation.is_placeholder,
        "outputImage": outputs[0] if outputs else None,
        "outputImages": outputs,
        "progress": {
            "done": generation.progress_done,
            "total": generation.progress_total,
            "percent": generation.percent,
            "message": generation.progress_message,
        },
        "error": error,
        "cost": generation.cost,
        "priority": generation.priority,
        "attempts": generation.attempts,
        "cancelRequested": generation.cancel_requested_at is not None,
        **service.queue_estimate(generation),
        "createdAt": isoformat(generation.created_at),
        "startedAt": isoformat(generation.started_at),
        "completedAt": isoformat(generation.finished_at),
        "deletedAt": isoformat(generation.deleted_at),
    }


def _references(generation: Generation) -> list[Image]:
    ids = list(generation.reference_image_ids or [])
    if not ids:
        return []
    by_id = {image.id: image for image in db.session.scalars(sa.select(Image).where(Image.id.in_(ids)))}
    return [by_id[image_id] for image_id in ids if image_id in by_id]
