"""The fal-style queue onto the generation service: which model a path names, submit, look up, cancel.

It keeps no state of its own: a request is a generation, its request_id the generation's id.
"""
from dataclasses import dataclass, replace

from app.catalog.presets import UnknownPreset, get_preset
from app.compat.fal import inputs
from app.compat.fal.inputs import FalInputError
from app.errors import ApiError
from app.generations import lifecycle
from app.generations.estimates import queue_estimates
from app.generations.models import Generation, GenerationStatus
from app.generations.service import create_generation, get_generation
from app.generations.spec import GenerationSpec
from app.images.inputs import ImageIntake
from app.projects.models import Project
from app.providers import fal
from app.providers.registry import all_providers, model_ids
from app.webhooks.service import check_callback_url

Z_IMAGE_TEXT, Z_IMAGE_EDIT = "z-image-text-to-image", "z-image-image-edit"
PRESET_OWNER = "stagecraft"
NO_AI_SERVICE = (
    "{model} makes a new image from a prompt, which needs an AI image service, and none is connected: ask your "
    "Stagecraft administrator to connect fal.ai, nanobananaapi.ai or Google Gemini. Without one, send photos in "
    "image_urls to an edit model (fal-ai/nano-banana-pro/edit, z-image-image-edit or stagecraft/<preset>)."
)


@dataclass(frozen=True)
class FalModel:
    """A model this surface offers: whether it edits photos, the preset it runs, the AI model it prefers."""

    id: str
    edit: bool
    preset: str | None = None
    upstream: str | None = None  # used when the service offering it is connected; else the project's routing
    pipelet: bool = False  # answers carry pipelet's extras (image.data_uri, results)


MODELS = {
    fal.TEXT_MODEL: FalModel(fal.TEXT_MODEL, edit=False, upstream=fal.TEXT_MODEL),
    fal.EDIT_MODEL: FalModel(fal.EDIT_MODEL, edit=True, upstream=fal.EDIT_MODEL),
    Z_IMAGE_TEXT: FalModel(Z_IMAGE_TEXT, edit=False, pipelet=True),
    Z_IMAGE_EDIT: FalModel(Z_IMAGE_EDIT, edit=True, pipelet=True),
}


def find_model(app_path: str) -> FalModel:
    """The model an app path names: a fal model id, pipelet's z-image ids (under any owner), stagecraft/<preset>."""
    path = app_path.strip("/")
    segments = path.split("/")
    if path in MODELS:
        return MODELS[path]
    if segments[-1] in (Z_IMAGE_TEXT, Z_IMAGE_EDIT):
        return MODELS[segments[-1]]
    if segments[0] == PRESET_OWNER and len(segments) == 2:
        try:
            preset = get_preset(segments[1])
        except UnknownPreset as unknown:
            raise ApiError(str(unknown), status=404, code="not_found") from None
        return FalModel(path, edit=True, preset=preset.id)
    offered = ", ".join([*MODELS, f"{PRESET_OWNER}/<preset>"])
    raise ApiError(f"There is no model at {path}. Models offered here: {offered}.", status=404, code="not_found")


def app_base(app_path: str) -> str:
    """owner/app of an app path, without the subpath: where a request's status, result and cancel live."""
    return "/".join(app_path.strip("/").split("/")[:2])


def submit(project: Project, app_path: str, body: dict, *, api_key=None, webhook=None, priority_header=None):
    """Check a model's input, store its photos, and create the generation (queued for a worker on commit)."""
    model = find_model(app_path)
    prompt = inputs.text_field(body, "prompt")
    urls = inputs.image_urls(body)
    if model.edit and not urls:
        raise FalInputError("image_urls", f"{model.id} edits photos: send at least one in image_urls.")
    if not model.edit and urls:
        raise FalInputError("image_urls", f"{model.id} makes an image from the prompt alone; send photos to an edit model.")
    aspect_ratio, resolution = inputs.shape(body)
    spec = GenerationSpec(
        prompt=prompt,
        preset=model.preset,
        model=_upstream(model),
        priority=inputs.priority(body, priority_header),
        aspect_ratio=aspect_ratio,
        resolution=resolution,
        # pipelet's width and height are the exact size of the result; the model makes its nearest ratio.
        width=inputs.whole_number(body, "width", 16, 8192),
        height=inputs.whole_number(body, "height", 16, 8192),
        promises_ai=model.preset is None,  # a model id is an AI model; a preset path runs where presets run
        num_images=inputs.image_count(body),
        output_format=inputs.output_format(body),
        meta={"fal": {"app": app_path.strip("/"), "model": model.id, "seed": inputs.whole_number(body, "seed", 0, 2**32 - 1)}},
    )
    callback_url = checked_webhook(webhook)
    with ImageIntake(project) as intake:  # a refused request removes the photo files it stored
        references = [inputs.photo_id(intake, url, position) for position, url in enumerate(urls)]
        spec = replace(spec, references=references, callback_url=callback_url, surface="fal")
        generation = create_generation(project, spec, api_key=api_key)
        if generation.kind == "text_to_image" and not getattr(all_providers()[generation.provider], "models", None):
            raise FalInputError(None, NO_AI_SERVICE.format(model=model.id), "unsupported_request")
    return generation


def _upstream(model: FalModel) -> str | None:
    """The AI model the fal model names, when a connected service offers it; else the project's routing decides."""
    if model.upstream and any(model.upstream in model_ids(p) for p in all_providers().values()):
        return model.upstream
    return None


def checked_webhook(url: str | None) -> str | None:
    """?fal_webhook=: checked now as every callback address is (and again on delivery), in fal's error shape."""
    try:
        return check_callback_url(url, field="fal_webhook")
    except ApiError as refused:
        raise FalInputError(None, refused.message) from None


def get_request(project: Project, request_id: str) -> Generation:
    """A request of the caller's project; 404 otherwise (another workspace's request included)."""
    try:
        return get_generation(project, request_id)
    except ApiError:
        raise ApiError("Request not found.", status=404, code="not_found") from None


def cancel_request(generation: Generation) -> bool:
    """Cancel a queued request at once, ask a running one to stop; False when it had already finished."""
    if generation.is_terminal:
        return False
    status = lifecycle.request_cancel(generation)
    # It may have finished between our read and the guarded update; then it stays as it ended.
    return status in (GenerationStatus.CANCELED, GenerationStatus.PROCESSING)


def queue_facts(generation: Generation) -> tuple[int | None, float | None]:
    """fal's queue_position (0 = next) while queued, and the estimated seconds left, if known."""
    estimate = queue_estimates([generation])[generation.id]
    position = estimate["queuePosition"]
    return (position - 1 if position is not None else None), estimate["etaSeconds"]

