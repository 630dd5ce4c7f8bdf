"""The v1 API's JSON shape of a generation."""
import sqlalchemy as sa

from app.extensions import db
from app.generations.estimates import queue_estimates
from app.generations.models import Generation, GenerationStatus
from app.images.models import Image
from app.images.serializers import image_json
from app.timeutil import isoformat


def generations_json(generations: list[Generation]) -> list[dict]:
    """The v1 API representation of a page of generations: references and estimates fetched once for all."""
    by_id = _references([generation.reference_image_ids or [] for generation in generations])
    estimates = queue_estimates(generations)
    return [
        _generation_json(
            generation, [by_id[i] for i in generation.reference_image_ids or [] if i in by_id], estimates[generation.id]
        )
        for generation in generations
    ]


def generation_json(generation: Generation) -> dict:
    """The v1 API representation of one generation."""
    return generations_json([generation])[0]


def _generation_json(generation: Generation, references: list[Image], estimate: dict) -> dict:
    error = None
    if generation.status is GenerationStatus.CANCELED:
        error = {"code": "canceled", "message": "canceled"}
    elif generation.error_message:
        error = {"code": generation.error_code, "message": generation.error_message}
    outputs = [image_json(image) for image in generation.outputs if image.deleted_at is None]
    return {
        "id": generation.id,
        "projectId": generation.project_id,
        "status": generation.status.api_word,
        "prompt": generation.prompt,
        # What the provider was sent: the caller's words with the preset's (or auto-enhance) wording.
        "providerPrompt": generation.provider_prompt or generation.prompt,
        "preset": generation.preset,
        "kind": generation.kind,
        "provider": generation.provider,
        "model": generation.model,
        "flowId": generation.flow_id,
        "referenceImages": [image_json(image) for image in references],
        "alias": generation.assign_alias,
        "flowAlias": generation.assign_flow_alias,
        "autoEnhance": generation.original_prompt is not None,
        "originalPrompt": generation.original_prompt,
        "meta": generation.meta or {},
        "retryOf": generation.retry_of_id,
        "aspectRatio": generation.aspect_ratio,
        "resolution": generation.resolution,
        "width": generation.target_width,
        "height": generation.target_height,
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
        **estimate,
        "createdAt": isoformat(generation.created_at),
        "startedAt": isoformat(generation.started_at),
        "completedAt": isoformat(generation.finished_at),
        "deletedAt": isoformat(generation.deleted_at),
    }


def _references(id_lists: list[list[str]]) -> dict[str, Image]:
    """The reference images of several generations, by id, in one query."""
    ids = {image_id for id_list in id_lists for image_id in id_list}
    if not ids:
        return {}
    return {image.id: image for image in db.session.scalars(sa.select(Image).where(Image.id.in_(ids)))}
