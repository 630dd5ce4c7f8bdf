"""Creating and reading generations; their state changes live in lifecycle.py."""
import sqlalchemy as sa
from flask import current_app
from rq import Worker

from app.credits import pricing
from app.credits import service as credits
from app.errors import ApiError
from app.extensions import db, redis_queues
from app.pagination import paginate
from app.flows import service as flows
from app.generations import checks
from app.generations.lifecycle import average_duration
from app.generations.models import Generation, GenerationStatus
from app.generations.presets import UnknownPreset, get_preset
from app.images.aliases import resolve_reference
from app.images.models import Image
from app.images.service import delete_image, get_image
from app.images.storage import storage
from app.imaging.geometry import RESOLUTIONS
from app.imaging.io import load_photo
from app.imaging.overlay import watermark
from app.projects.models import Project
from app.projects.service import user_workspace_ids
from app.providers.base import ProviderRefused, ProviderRequest, ProviderResult
from app.providers.registry import get_provider, provider_for_model
from app.timeutil import utcnow



def create_generation(
    project: Project,
    *,
    prompt: str | None = None,
    preset_id: str | None = None,
    reference_ids: list | None = None,
    user=None,
    api_key=None,
    provider_name: str | None = None,
    model: str | None = None,
    priority: int = 0,
    aspect_ratio: str | None = None,
    resolution: str | None = None,
    num_images: int = 1,
    output_format: str | None = None,
    watermark: str | None = None,
    flow_id: str | None = None,
    alias: str | None = None,
    flow_alias: str | None = None,
    auto_enhance: bool = False,
    meta: dict | None = None,
    retry_of: Generation | None = None,
) -> Generation:
    """Validate a request, reserve its credits and record it as queued (dispatch it after commit).

    Without a flow id the generation starts a new flow.
    """
    preset = _resolve_preset(preset_id)
    flow = flows.get_flow(project, flow_id) if flow_id else flows.create_flow(project)
    references = _resolve_references(project, reference_ids or [], flow.id)
    checks.check_assignments(project, alias, flow_alias)
    provider = _choose_provider(project, provider_name, model)
    request = ProviderRequest(
        kind="enhance" if preset_id == "enhance" else ("edit" if references else "text_to_image"),
        prompt=checks.check_prompt(prompt, preset, auto_enhance),
        preset=preset,
        reference_ids=[image.id for image in references],
        aspect_ratio=checks.check_aspect_ratio(aspect_ratio),
        resolution=checks.check_choice("resolution", resolution, RESOLUTIONS),
        num_images=checks.check_num_images(num_images, references),
    )
    try:
        provider.check(request)
    except ProviderRefused as refused:
        raise ApiError(str(refused), code="unsupported_request") from None
    generation = Generation(
        project_id=project.id,
        created_by_id=user.id if user else None,
        api_key_id=api_key.id if api_key else None,
        kind=request.kind,
        prompt=request.prompt,
        original_prompt=prompt if auto_enhance else None,
        preset=preset.id if preset else None,
        reference_image_ids=request.reference_ids,
        source_image_id=request.reference_ids[0] if request.reference_ids else None,
        reference_inputs=list(reference_ids or []),
        flow_id=flow.id,
        assign_alias=alias,
        assign_flow_alias=flow_alias,
        meta=checks.check_meta(meta),
        retry_of_id=retry_of.id if retry_of else None,
        aspect_ratio=request.aspect_ratio,
        resolution=request.resolution,
        num_images=request.num_images,
        output_format=checks.check_choice("outputFormat", output_format, checks.OUTPUT_FORMATS) or "jpeg",
        watermark=checks.check_watermark(watermark),
        provider=provider.name,
        model=model,
        priority=checks.check_priority(priority),
        cost=_price(provider, request),
    )
    db.session.add(generation)
    db.session.flush()
    generation.rq_job_id = generation.id
    credits.reserve(project.workspace_id, generation.id, generation.cost, actor=user)
    return generation


def _choose_provider(project: Project, provider_name: str | None, model: str | None):
    """The provider named, else the one serving the model, else the project's or the default."""
    if provider_name:
        provider = get_provider(provider_name)
        if model and provider_for_model(model) is not provider:
            raise ApiError(f"Model '{model}' is not served by provider '{provider_name}'.")
        return provider
    if model:
        return provider_for_model(model)
    return get_provider(project.default_provider or current_app.config["DEFAULT_PROVIDER"])


def _price(provider, request: ProviderRequest) -> int:
    outputs = max(1, len(request.reference_ids)) * request.num_images
    table = current_app.config["CREDIT_PRICES"]
    return pricing.price(table, provider.name, request.resolution, outputs) * provider.price_factor(request)


def _resolve_preset(preset_id: str | None):
    if not preset_id:
        return None
    try:
        return get_preset(preset_id)
    except UnknownPreset as unknown:
        raise ApiError(str(unknown)) from None


def _resolve_references(project: Project, reference_ids: list, flow_id: str | None) -> list[Image]:
    if not isinstance(reference_ids, list) or not all(isinstance(i, str) for i in reference_ids):
        raise ApiError("referenceImages must be a list of image ids or aliases.")
    if len(reference_ids) > checks.MAX_REFERENCE_IMAGES:
        raise ApiError(f"At most {checks.MAX_REFERENCE_IMAGES} reference images per generation.")
    return [resolve_reference(project, reference, flow_id) for reference in reference_ids]


def run_provider(generation: Generation, report) -> ProviderResult:
    """Load the generation's reference photos, let its provider do the work, and label the results."""
    report(0, 1, "Loading the photo")
    project = db.session.get(Project, generation.project_id)
    max_pixels = current_app.config["MAX_IMAGE_PIXELS"]
    rows = [get_image(project, image_id) for image_id in generation.reference_image_ids]
    references = [load_photo(storage().get(row.storage_key), max_pixels=max_pixels).image for row in rows]
    focal = (rows[0].focal_x, rows[0].focal_y) if rows and rows[0].focal_x is not None else None
    request = ProviderRequest(
        kind=generation.kind,
        prompt=generation.prompt,
        preset=get_preset(generation.preset) if generation.preset else None,
        reference_ids=list(generation.reference_image_ids),
        references=references,
        aspect_ratio=generation.aspect_ratio,
        resolution=generation.resolution,
        num_images=generation.num_images,
        focal_point=focal,
    )
    result = get_provider(generation.provider).run(request, report)
    if generation.watermark:
        return ProviderResult([watermark(image, text=generation.watermark) for image in result.images], result.placeholder)
    return result


def get_generation(project: Project, generation_id: str, include_deleted: bool = False) -> Generation:
    """A generation of the project (soft-deleted ones only when asked); 404 otherwise."""
    query = sa.select(Generation).where(Generation.id == str(generation_id), Generation.project_id == project.id)
    if not include_deleted:
        query = query.where(Generation.deleted_at.is_(None))
    generation = db.session.scalar(query)
    if generation is None:
        raise ApiError("Generation not found", status=404, code="not_found")
    return generation


def generations_for_image(image: Image, limit: int = 100) -> list[Generation]:
    """Generations whose (first) reference is this image, newest first."""
    query = sa.select(Generation).where(Generation.source_image_id == image.id, Generation.deleted_at.is_(None))
    return list(db.session.scalars(query.order_by(Generation.created_at.desc(), Generation.id).limit(limit)))


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
    if generation.is_terminal:
        return {"queuePosition": position, "etaSeconds": eta}
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


API_STATUS_FILTERS = {
    "pending": [GenerationStatus.QUEUED],
    "processing": [GenerationStatus.PROCESSING],
    "success": [GenerationStatus.SUCCEEDED],
    "failed": [GenerationStatus.FAILED, GenerationStatus.CANCELED],
}


def list_generations(project: Project, *, flow_id=None, status=None, include_deleted=False, limit=20, offset=0):
    """A page of the project's generations, newest first, and the total matching the filters."""
    query = sa.select(Generation).where(Generation.project_id == project.id)
    if not include_deleted:
        query = query.where(Generation.deleted_at.is_(None))
    if flow_id:
        query = query.where(Generation.flow_id == flow_id)
    if status:
        if status not in API_STATUS_FILTERS:
            raise ApiError(f"status must be one of: {', '.join(API_STATUS_FILTERS)}.")
        query = query.where(Generation.status.in_(API_STATUS_FILTERS[status]))
    return paginate(query, (Generation.created_at.desc(), Generation.id), limit, offset)


def retry_generation(project: Project, original: Generation, *, prompt=None, aspect_ratio=None, api_key=None, user=None):
    """Run a finished generation again as a new one, against the current aliases and project settings."""
    if not original.is_terminal:
        raise ApiError("The generation is still running; retry it once it has finished.", status=409, code="conflict")
    return create_generation(
        project,
        prompt=prompt if prompt is not None else (original.original_prompt or original.prompt),
        preset_id=original.preset,
        reference_ids=original.reference_inputs or original.reference_image_ids,
        user=user,
        api_key=api_key,
        priority=original.priority,
        aspect_ratio=aspect_ratio if aspect_ratio is not None else original.aspect_ratio,
        resolution=original.resolution,
        num_images=original.num_images,
        model=original.model,
        output_format=original.output_format,
        watermark=original.watermark,
        flow_id=original.flow_id,
        auto_enhance=original.original_prompt is not None and prompt is None,
        meta=original.meta,
        retry_of=original,
    )


def delete_generation(generation: Generation, hard: bool = False) -> None:
    """Soft-delete a generation and its outputs; hard also removes the output files."""
    generation.deleted_at = generation.deleted_at or utcnow()
    for image in generation.outputs:
        delete_image(image, hard=hard)
    db.session.flush()
