"""Creating generations and moving them through their states; each move is one guarded UPDATE."""
import hashlib
import logging

import sqlalchemy as sa
from flask import current_app
from redis.exceptions import RedisError

from app.errors import ApiError
from app.extensions import db, redis_queues
from app.generations.models import Generation, GenerationStatus
from app.generations.presets import UnknownPreset, get_preset
from app.images.models import Image
from app.images.service import get_image, store_image_files
from app.images.storage import storage
from app.imaging.io import encode_image, load_photo
from app.projects.models import Project
from app.projects.service import user_workspace_ids
from app.providers.base import ProviderRefused, ProviderRequest
from app.providers.registry import get_provider
from app.timeutil import utcnow

log = logging.getLogger(__name__)

ACTIVE = (GenerationStatus.QUEUED, GenerationStatus.PROCESSING)
MAX_PROMPT_LENGTH = 4000
MAX_REFERENCE_IMAGES = 8


def create_generation(
    project: Project,
    *,
    prompt: str | None = None,
    preset_id: str | None = None,
    reference_ids: list | None = None,
    user=None,
    api_key=None,
    provider_name: str | None = None,
    priority: int = 0,
) -> Generation:
    """Validate a request and record it as a queued generation (enqueue it after commit)."""
    preset = _resolve_preset(preset_id)
    prompt = (prompt or "").strip() or (preset.prompt if preset else "")
    if not prompt:
        raise ApiError("Prompt is required")
    if len(prompt) > MAX_PROMPT_LENGTH:
        raise ApiError(f"Prompt is too long: keep it under {MAX_PROMPT_LENGTH} characters.")
    references = _resolve_references(project, reference_ids or [])
    provider_name = provider_name or project.default_provider or current_app.config["DEFAULT_PROVIDER"]
    provider = get_provider(provider_name)
    kind = "enhance" if preset_id == "enhance" else ("edit" if references else "text_to_image")
    request = ProviderRequest(kind=kind, prompt=prompt, preset=preset, reference_ids=[i.id for i in references])
    try:
        provider.check(request)
    except ProviderRefused as refused:
        raise ApiError(str(refused), code="unsupported_request") from None
    generation = Generation(
        project_id=project.id,
        created_by_id=user.id if user else None,
        api_key_id=api_key.id if api_key else None,
        kind=kind,
        prompt=prompt,
        preset=preset.id if preset else None,
        reference_image_ids=[image.id for image in references],
        provider=provider.name,
        priority=priority,
        cost=(preset.credits if preset else 1) * max(1, len(references)),
    )
    db.session.add(generation)
    db.session.flush()
    return generation


def _resolve_preset(preset_id: str | None):
    if not preset_id:
        return None
    try:
        return get_preset(preset_id)
    except UnknownPreset as unknown:
        raise ApiError(str(unknown)) from None


def _resolve_references(project: Project, reference_ids: list) -> list[Image]:
    if not isinstance(reference_ids, list) or not all(isinstance(i, str) for i in reference_ids):
        raise ApiError("referenceImages must be a list of image ids.")
    if len(reference_ids) > MAX_REFERENCE_IMAGES:
        raise ApiError(f"At most {MAX_REFERENCE_IMAGES} reference images per generation.")
    return [get_image(project, image_id) for image_id in reference_ids]


def queue_name_for(priority: int) -> str:
    """Larger priority runs sooner."""
    return "high" if priority > 0 else "low" if priority < 0 else "default"


def enqueue_generation(generation: Generation) -> bool:
    """Put a committed generation on its queue; the RQ job id is the generation id.

    If Redis is unreachable the generation stays queued and the sweeper enqueues it later.
    """
    try:
        _enqueue(generation)
    except RedisError:
        log.warning("could not enqueue generation %s; the sweeper will retry", generation.id, exc_info=True)
        return False
    return True


def _enqueue(generation: Generation) -> None:
    redis_queues.queue(queue_name_for(generation.priority)).enqueue(
        "jobs.generation.run_generation",
        generation.id,
        job_id=generation.id,
        job_timeout=current_app.config["JOB_TIMEOUT"],
        result_ttl=3600,
        failure_ttl=7 * 24 * 3600,
        description=f"generation {generation.id} ({generation.preset or generation.kind})",
    )


def transition(generation_id: str, to: GenerationStatus, from_states, **values) -> bool:
    """Move a generation to a new status only if it is in one of from_states; True if it moved."""
    result = db.session.execute(
        sa.update(Generation)
        .where(Generation.id == generation_id, Generation.status.in_(list(from_states)))
        .values(status=to, updated_at=utcnow(), **values)
    )
    return result.rowcount == 1


def start_generation(generation: Generation) -> bool:
    """queued → processing; False if someone else already moved it."""
    return transition(generation.id, GenerationStatus.PROCESSING, [GenerationStatus.QUEUED], started_at=utcnow())


def record_progress(generation: Generation, done: int, total: int, message: str) -> None:
    """Store a running generation's progress on its row."""
    generation.progress_done, generation.progress_total, generation.progress_message = done, total, message[:255]
    db.session.flush()


def complete_generation(generation: Generation, outputs: list) -> bool:
    """Store the outputs as images of the project and mark the generation succeeded."""
    project = db.session.get(Project, generation.project_id)
    for pixels in outputs:
        fmt = "PNG" if pixels.mode == "RGBA" else "JPEG"
        data = encode_image(pixels, fmt, quality=92)
        image = Image(
            project_id=project.id,
            source="generated",
            mime="image/png" if fmt == "PNG" else "image/jpeg",
            width=pixels.width,
            height=pixels.height,
            size_bytes=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            generation_id=generation.id,
        )
        store_image_files(project, image, data, pixels)
    return transition(
        generation.id,
        GenerationStatus.SUCCEEDED,
        [GenerationStatus.PROCESSING],
        finished_at=utcnow(),
        progress_message="Done",
    )


def fail_generation(generation_id: str, code: str, message: str) -> bool:
    """Mark an unfinished generation failed with a reason a person understands."""
    return transition(
        generation_id,
        GenerationStatus.FAILED,
        ACTIVE,
        finished_at=utcnow(),
        error_code=code,
        error_message=message,
    )


def run_provider(generation: Generation, report) -> list:
    """Load the generation's reference photos and let its provider do the work."""
    report(0, 1, "Loading the photo")
    project = db.session.get(Project, generation.project_id)
    max_pixels = current_app.config["MAX_IMAGE_PIXELS"]
    references = [
        load_photo(storage().get(get_image(project, image_id).storage_key), max_pixels=max_pixels).image
        for image_id in generation.reference_image_ids
    ]
    request = ProviderRequest(
        kind=generation.kind,
        prompt=generation.prompt,
        preset=get_preset(generation.preset) if generation.preset else None,
        reference_ids=list(generation.reference_image_ids),
        references=references,
        aspect_ratio=generation.aspect_ratio,
        resolution=generation.resolution,
        num_images=generation.num_images,
    )
    return get_provider(generation.provider).run(request, report)


def get_generation(project: Project, generation_id: str) -> Generation:
    """A generation of the project; 404 otherwise."""
    generation = db.session.scalar(
        sa.select(Generation).where(
            Generation.id == str(generation_id), Generation.project_id == project.id, Generation.deleted_at.is_(None)
        )
    )
    if generation is None:
        raise ApiError("Generation not found", status=404, code="not_found")
    return generation


def generations_for_image(image: Image) -> list[Generation]:
    """Generations that used an image as a reference, newest first."""
    query = sa.select(Generation).where(Generation.project_id == image.project_id, Generation.deleted_at.is_(None))
    candidates = db.session.scalars(query.order_by(Generation.created_at.desc()).limit(200))
    return [g for g in candidates if image.id in (g.reference_image_ids or [])]


def get_generation_for_user(user, generation_id: str) -> Generation:
    """A generation in one of the user's workspaces; 404 otherwise."""
    generation = db.session.scalar(
        sa.select(Generation)
        .join(Project, Project.id == Generation.project_id)
        .where(
            Generation.id == str(generation_id),
            Generation.deleted_at.is_(None),
            Project.workspace_id.in_(user_workspace_ids(user)),
        )
    )
    if generation is None:
        raise ApiError("Generation not found", status=404, code="not_found")
    return generation
