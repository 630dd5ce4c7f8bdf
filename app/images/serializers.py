"""The v1 API's JSON shape of an image."""
from app.images.models import Image
from app.images.storage import file_url
from app.timeutil import isoformat
from app.urls import absolute


def image_json(image: Image) -> dict:
    """The API representation of an image, with absolute signed URLs to its file and thumbnail."""
    return {
        "id": image.id,
        "projectId": image.project_id,
        "source": image.source,
        "url": absolute(file_url(image.storage_key, download_name=f"{image.id}.{image.extension}")),
        "thumbnailUrl": absolute(file_url(image.thumbnail_key)) if image.thumbnail_key else None,
        "mimeType": image.mime,
        "width": image.width,
        "height": image.height,
        "fileSize": image.size_bytes,
        "sha256": image.sha256,
        "alias": image.alias,
        "flowId": image.flow_id,
        "focalPoint": {"x": image.focal_x, "y": image.focal_y} if image.focal_x is not None else None,
        "originalFilename": image.original_filename,
        "generationId": image.generation_id,
        "meta": image.meta or {},
        "createdAt": isoformat(image.created_at),
        "deletedAt": isoformat(image.deleted_at),
    }
