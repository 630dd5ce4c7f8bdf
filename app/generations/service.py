"""Creating and reading generations; their state changes live in lifecycle.py."""
import sqlalchemy as sa
from flask import current_app
from rq import Worker

from app.credits import pricing
from app.credits import service as credits
from app.errors import ApiError
from app.extensions import db, redis_queues
from app.generations.lifecycle import average_duration
from app.generations.models import Generation, GenerationStatus
from app.generations.presets import UnknownPreset, get_preset
from app.images.models import Image
from app.images.service import get_image
from app.images.storage import storage
from app.imaging.io import load_photo
from app.projects.models import Project
from app.projects.service import user_workspace_ids
from app.providers.base import ProviderRefused, ProviderRequest
from app.providers.registry import get_provider
from app.timeutil import utcnow

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
    """Validate a request, reserve its credits and record it as queued (dispatch it after commit)."""
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
        priority=_check_priority(priority),
        cost=pricing.price(current_app.config["CREDIT_PRICES"], provider.name, None, max(1, len(references))),
    )
    db.session.add(generation)
    db.session.flush()
    generation.rq_job_id = generation.id
    credits.reserve(project.workspace_id, generation.id, generation.cost, actor=user)
    return generation


def _check_priority(priority) -> int:
    if not isinstance(priority, int) or isinstance(priority, bool) or not -10 <= priority <= 10:
        raise ApiError("priority must be a whole number from -10 to 10 (larger runs sooner).")
    return priority


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


def queue_estimate(generation: Generation) -> dict:
    """Place in the queue (1 = next) and estimated seconds until done, from recent durations."""
    position, eta = None, None
    average = average_duration(generation.provider, generation.model)
    if generation.status is GenerationStatus.QUEUED:
        ahead = db.session.scalar(
            sa.select(sa.func.count(Generation.id)).where(
                Generation.status == GenerationStatus.QUEUED,
                sa.or_(
                    Generation.priority > generation.priority,
                    sa.and_(Generation.priority == generation.priority, Generation.created_at < generation.created_at),
                ),
            )
        )
        position = ahead + 1
        if average is not None:
            workers = max(1, Worker.count(connection=redis_queues.connection))
            eta = round(-(-position // workers) * average, 1)
    elif generation.status is GenerationStatus.PROCESSING and average is not None and generation.started_at:
        eta = round(max(0.0, average - (utcnow() - generation.started_at).total_seconds()), 1)
    return {"queuePosition": position, "etaSeconds": eta}
