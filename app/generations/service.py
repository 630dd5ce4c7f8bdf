"""Creating and reading generations; running one is running.py, its state changes lifecycle.py."""
from dataclasses import dataclass

import sqlalchemy as sa

from app.catalog.limits import (
    API_STATUSES,
    DEFAULT_OUTPUT_FORMAT,
    MAX_REFERENCE_IMAGES,
    OUTPUT_FORMATS,
    TOO_MANY_REFERENCES,
)
from app.catalog.presets import PRESETS, Preset, UnknownPreset, get_preset
from app.credits import service as credits
from app.errors import ApiError
from app.extensions import db
from app.flows import service as flows
from app.generations import checks, deciding, lifecycle
from app.generations.dispatch import enqueue_after_commit
from app.generations.models import Generation, GenerationStatus
from app.generations.spec import GenerationSpec
from app.images.aliases import resolve_reference
from app.images.models import Image
from app.images.service import delete_image
from app.pagination import count_per, paginate
from app.projects.models import Project
from app.projects.service import get_for_user, get_in_project
from app.providers.base import ProviderRequest
from app.timeutil import utcnow
from app.webhooks.service import check_callback_url

# Lists show each generation's outputs: load them for the whole page in one more query.
WITH_OUTPUTS = sa.orm.selectinload(Generation.outputs)


def create_generation(project: Project, spec: GenerationSpec, *, user=None, api_key=None, retry_of=None) -> Generation:
    """Check a request, decide who does it at what size, reserve exactly that price and record it as queued;
    it is queued for a worker on commit. Without a flow id the generation starts a new flow.
    """
    preset = _resolve_preset(spec.preset)
    # References resolve in the flow the caller named; without one, technical aliases look project-wide.
    named_flow = flows.get_flow(project, spec.flow_id) if spec.flow_id else None
    references = _resolve_references(project, spec.references, named_flow)
    checks.check_assignments(project, spec.alias, spec.flow_alias)
    if spec.mask_key and not references:
        raise ApiError("Inpainting needs the photo the mask was drawn on.")
    target = checks.check_size(spec.width, spec.height)
    provider, request = deciding.decide(project, spec, preset, [image.id for image in references], target)
    generation = Generation(
        project_id=project.id,
        created_by_id=user.id if user else None,
        api_key_id=api_key.id if api_key else None,
        kind=request.kind,
        prompt=request.instructions or request.prompt,
        provider_prompt=request.prompt,
        original_prompt=spec.prompt if spec.auto_enhance else None,
        preset=preset.id if preset else None,
        reference_image_ids=request.reference_ids,
        source_image_id=request.reference_ids[0] if request.reference_ids else None,
        reference_inputs=list(spec.references),
        flow_id=(named_flow or flows.create_flow(project)).id,
        assign_alias=spec.alias,
        assign_flow_alias=spec.flow_alias,
        meta=checks.check_meta(spec.meta),
        retry_of_id=retry_of.id if retry_of else None,
        aspect_ratio=request.aspect_ratio,
        resolution=request.resolution,
        target_width=target[0] if target else None,
        target_height=target[1] if target else None,
        promises_ai=spec.promises_ai,
        num_images=request.num_images,
        output_format=checks.check_choice("outputFormat", spec.output_format, OUTPUT_FORMATS) or DEFAULT_OUTPUT_FORMAT,
        watermark=checks.check_watermark(
            _label_by_default(spec.watermark, preset), default_label=project.workspace.watermark_text
        ),
        mask_key=spec.mask_key,
        provider=provider.name,
        model=request.model,
        priority=checks.check_priority(spec.priority),
        cost=deciding.price_of(provider, request),
        callback_url=check_callback_url(spec.callback_url),
        surface=spec.surface,
    )
    db.session.add(generation)
    db.session.flush()
    generation.rq_job_id = generation.id
    credits.reserve(project.workspace_id, generation.id, generation.cost, actor=user)
    enqueue_after_commit(generation)
    return generation


@dataclass(frozen=True)
class Offer:
    """What a preset costs on one photo and who would do it, or that no connected service can."""

    preset: Preset | None  # None for a prompt of the caller's own
    available: bool
    service: str  # "the built-in engine", "fal.ai"…
    credits: int | None
    refusal: str | None = None


def preset_offers(project: Project | None = None) -> list[Offer]:
    """Each preset as it would run on one photo of the project (or with the defaults): where and for how much."""
    return [offer_for(project, GenerationSpec(preset=preset.id)) for preset in PRESETS.values()]


def offer_for(project: Project | None, spec: GenerationSpec) -> Offer:
    """What a request would cost on one photo and who would do it, by the rule create_generation applies."""
    preset = _resolve_preset(spec.preset)
    try:
        provider, request = deciding.decide(project, spec, preset, ["photo"], checks.check_size(spec.width, spec.height))
    except ApiError as refused:
        if refused.code != "unsupported_request":
            raise
        provider, request = deciding.route(project, spec, _quoted_request(spec, preset))
        service = getattr(provider, "label", "") or "the built-in engine"
        return Offer(preset, False, service, None, refused.message)
    service = getattr(provider, "label", "") or "the built-in engine"
    return Offer(preset, True, service, deciding.price_of(provider, request))


def _quoted_request(spec: GenerationSpec, preset) -> ProviderRequest:
    """The request a refused quote was routed with, to name the service that refused it."""
    return ProviderRequest(
        kind=deciding.kind_of(spec, ["photo"]), prompt=checks.check_prompt(spec.prompt, preset, spec.auto_enhance),
        instructions=checks.caller_words(spec.prompt), preset=preset, reference_ids=["photo"],
    )


def _label_by_default(watermark, preset):
    """Presets that alter a room carry the disclosure label unless the caller turned it off (false)."""
    if watermark is None and preset is not None and preset.labelled:
        return True
    return watermark


def _resolve_preset(preset_id: str | None):
    if not preset_id:
        return None
    try:
        return get_preset(preset_id)
    except UnknownPreset as unknown:
        raise ApiError(str(unknown)) from None


def _resolve_references(project: Project, reference_ids: list, flow) -> list[Image]:
    if not isinstance(reference_ids, list) or not all(isinstance(i, str) for i in reference_ids):
        raise ApiError("referenceImages must be a list of image ids or aliases.")
    if len(reference_ids) > MAX_REFERENCE_IMAGES:
        raise ApiError(TOO_MANY_REFERENCES)
    return [resolve_reference(project, reference, flow) for reference in reference_ids]


def get_generation(project: Project, generation_id: str, include_deleted: bool = False) -> Generation:
    """A generation of the project (soft-deleted ones only when asked); 404 otherwise."""
    live = () if include_deleted else (Generation.deleted_at.is_(None),)
    return get_in_project(project, Generation, str(generation_id), *live, not_found="Generation not found")


def count_by_flow(flow_ids: list[str]) -> dict[str, int]:
    """How many live generations each flow holds."""
    return count_per(Generation.flow_id, flow_ids, Generation.deleted_at.is_(None))


def flow_timeline(flow) -> list[Generation]:
    """The flow's live generations, oldest first."""
    query = sa.select(Generation).where(Generation.flow_id == flow.id, Generation.deleted_at.is_(None))
    return list(db.session.scalars(query.options(WITH_OUTPUTS).order_by(Generation.created_at, Generation.id)))


def generations_for_image(image: Image, limit: int = 100) -> list[Generation]:
    """Generations whose (first) reference is this image, newest first."""
    query = sa.select(Generation).where(Generation.source_image_id == image.id, Generation.deleted_at.is_(None))
    query = query.options(WITH_OUTPUTS).order_by(Generation.created_at.desc(), Generation.id).limit(limit)
    return list(db.session.scalars(query))


def find_by_upstream_request(provider_name: str, upstream_id: str) -> Generation | None:
    """The generation a provider's request id belongs to, if any."""
    query = sa.select(Generation).where(
        Generation.provider == provider_name, Generation.upstream_request_id == upstream_id
    )
    return db.session.scalar(query.limit(1))


def get_generation_for_user(user, generation_id: str) -> Generation:
    """A generation in one of the user's workspaces; 404 otherwise."""
    return get_for_user(
        user, Generation, str(generation_id), Generation.deleted_at.is_(None), not_found="Generation not found"
    )


# The statuses behind each of the API's words, for its status filter.
API_STATUS_FILTERS = {word: [status for status in GenerationStatus if status.api_word == word] for word in API_STATUSES}


def list_generations(project: Project, *, flow_id=None, status=None, include_deleted=False, limit=20, offset=0):
    """A page of the project's generations, newest first, of those matching the filters."""
    query = sa.select(Generation).where(Generation.project_id == project.id).options(WITH_OUTPUTS)
    if not include_deleted:
        query = query.where(Generation.deleted_at.is_(None))
    if flow_id:
        query = query.where(Generation.flow_id == flow_id)
    if status is not None:  # an empty status= is a wrong value too, not "no filter"
        if status not in API_STATUS_FILTERS:
            raise ApiError(f"status must be one of: {', '.join(API_STATUS_FILTERS)}.")
        query = query.where(Generation.status.in_(API_STATUS_FILTERS[status]))
    return paginate(query, (Generation.created_at.desc(), Generation.id), limit, offset)


def retry_generation(project: Project, original: Generation, *, prompt=None, aspect_ratio=None, api_key=None, user=None):
    """Run a finished generation again as a new one, against the current aliases and project settings."""
    if not original.is_terminal:
        raise ApiError("The generation is still running; retry it once it has finished.", status=409, code="conflict")
    spec = GenerationSpec.for_retry(original, prompt=prompt, aspect_ratio=aspect_ratio)
    return create_generation(project, spec, user=user, api_key=api_key, retry_of=original)


def delete_generation(generation: Generation, hard: bool = False) -> None:
    """Soft-delete a generation and its outputs (hard also removes the files); unfinished work is canceled first."""
    if not generation.is_terminal:
        # A queued one ends now and is refunded; a running one stops at its next step and stores nothing.
        lifecycle.request_cancel(generation)
    generation.deleted_at = generation.deleted_at or utcnow()
    for image in generation.outputs:
        delete_image(image, hard=hard)
    db.session.flush()
