"""process-image's JSON shape of an image generation record."""
from app.compat.process_image.models import ImageGenerationRecord
from app.images.storage import file_url
from app.timeutil import isoformat
from app.urls import absolute


def result_url(record: ImageGenerationRecord) -> str | None:
    """The signed, absolute URL of the record's result, once completed."""
    if record.status != "completed":
        return None
    outputs = [image for image in record.generation.outputs if image.deleted_at is None]
    return absolute(file_url(outputs[0].storage_key)) if outputs else None


def record_json(record: ImageGenerationRecord, workspace_id: int, completed_count: int | None = None) -> dict:
    """The record as that API's ImageGeneration, plus the credits it cost and its progress."""
    generation = record.generation
    failed = record.status == "failed"
    return {
        "id": record.id,
        "workspaceId": workspace_id,
        "userId": record.created_by_id,
        "projectId": record.project_id,
        "imageId": record.image_id,
        "originalImageUrl": absolute(file_url(record.image.storage_key)),
        "resultImageUrl": result_url(record),
        "prompt": record.prompt,
        "inpaint": record.mask_key is not None,
        "status": record.status,
        "errorMessage": (generation.error_message or "Canceled.") if failed else None,
        "progress": generation.percent if generation else 0,
        "creditsCost": generation.cost if generation else 0,
        "projectCompletedCount": completed_count,
        "createdAt": isoformat(record.created_at),
        "updatedAt": isoformat(max(record.updated_at, generation.updated_at) if generation else record.updated_at),
    }
