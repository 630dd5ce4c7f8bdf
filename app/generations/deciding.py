"""Who does a generation request, with which model, at which ratio and resolution tier, and for what price:
the one rule every surface (and the studio's quotes) goes through before any credit moves."""
import math
from dataclasses import replace

from flask import current_app

from app.catalog import pricing
from app.errors import ApiError
from app.generations import checks
from app.generations.spec import GenerationSpec
from app.imaging.geometry import RESOLUTIONS, frame_long_side, tier_for
from app.projects.models import Project
from app.providers import routing
from app.providers.base import ProviderRefused, ProviderRequest
from app.providers.registry import get_provider, model_prices, provider_for_model


def decide(project: Project | None, spec: GenerationSpec, preset, reference_ids: list, target=None):
    """The one rule every surface goes through: (provider, request) for who does the request, with which
    model, at which ratio and resolution tier; ApiError, before any credit moves, when nobody connected can
    do all of it."""
    kind = kind_of(spec, reference_ids)
    aspect_ratio = checks.check_aspect_ratio(spec.aspect_ratio)
    if target and not aspect_ratio:
        aspect_ratio = checks.check_aspect_ratio(_reduced(*target))
    resolution = checks.check_choice("resolution", spec.resolution, RESOLUTIONS)
    if target and not resolution:
        resolution = tier_for(max(target), RESOLUTIONS)
    request = ProviderRequest(
        kind=kind,
        prompt=checks.check_prompt(spec.prompt, preset, spec.auto_enhance),
        instructions=checks.caller_words(spec.prompt),
        preset=preset,
        reference_ids=list(reference_ids),
        aspect_ratio=aspect_ratio,
        resolution=resolution,
        num_images=checks.check_num_images(spec.num_images, reference_ids),
    )
    provider, request = route(project, spec, request)
    request = _sized(provider, request, target)
    try:
        provider.check(request)
    except ProviderRefused as refused:
        raise ApiError(str(refused), code="unsupported_request") from None
    return provider, request


def _reduced(width: int, height: int) -> str:
    divisor = math.gcd(width, height)
    return f"{width // divisor}:{height // divisor}"


def _sized(provider, request: ProviderRequest, target) -> ProviderRequest:
    """With an exact size asked: the tier the model must make so that the crop to that size needs no enlarging
    (the largest it offers when none is enough); the price follows this tier."""
    if not target:
        return request
    tiers = provider.tiers(request)
    needed = tier_for(frame_long_side(*target, provider.frame_ratio(request)), tiers)
    if request.resolution in tiers and RESOLUTIONS[request.resolution] >= RESOLUTIONS[needed]:
        return request
    return replace(request, resolution=needed)


def kind_of(spec: GenerationSpec, references: list) -> str:
    if spec.mask_key:
        return "inpaint"
    if spec.preset == "enhance":
        return "enhance"
    return "edit" if references else "text_to_image"


def route(project: Project | None, spec: GenerationSpec, request: ProviderRequest):
    """The provider for a request and the request with its model. As named by the caller, else the project's
    or workspace's choice, else DEFAULT_PROVIDER. The built-in engine runs only what it can do all of, and a
    prompt only when it was chosen (or no AI service is connected); a surface promising an AI model never
    gets it. Otherwise the first AI service able, or a refusal saying what is missing."""
    if spec.provider or spec.model:
        provider = _named_provider(spec.provider, spec.model)
        return provider, replace(request, model=routing.model_for(provider, request, spec.model))
    default, preferred = _default_service(project, request)
    request = replace(request, model=routing.model_for(default, request, preferred))
    if routing.is_ai(default):
        return default, request
    chosen = project is not None and project.default_provider == default.name
    if not spec.promises_ai and routing.accepts(default, request) and (chosen or _built_in_suits(request)):
        return default, request
    able = routing.first_able(request)
    if able is not None:
        provider, model = able
        return provider, replace(request, model=model)
    if spec.promises_ai:
        ai = routing.ai_providers_in_order()
        if ai:  # connected, but none can: the first one's refusal says why
            return ai[0], replace(request, model=routing.model_for(ai[0], request))
        raise ApiError(NEEDS_AI_MODEL, code="unsupported_request")
    return default, request  # able, or its refusal says what is possible


# Said when a surface documented as an AI model is used with no AI service connected.
NEEDS_AI_MODEL = (
    "This API runs an AI image model, and no AI image service is connected: ask your Stagecraft "
    "administrator to connect fal.ai, nanobananaapi.ai or Google Gemini. Nothing was charged."
)


def _built_in_suits(request: ProviderRequest) -> bool:
    """Unchosen, the built-in engine still runs a preset it has a pipeline for; a prompt of the caller's own
    goes to an AI service when one is connected."""
    return request.preset is not None or not routing.ai_providers_in_order()


def _default_service(project: Project | None, request: ProviderRequest):
    """The provider (and model) tried first: the project's, else the workspace's choice, else DEFAULT_PROVIDER."""
    if project is not None and project.default_provider:
        return get_provider(project.default_provider), None
    chosen = routing.workspace_choice(project.workspace, request) if project is not None else None
    return chosen or (get_provider(current_app.config["DEFAULT_PROVIDER"]), None)


def _named_provider(provider_name: str | None, model: str | None):
    """The provider named, checked against the model when both are given, or the one serving the model."""
    if not provider_name:
        return provider_for_model(model)
    provider = get_provider(provider_name)
    if model and provider_for_model(model) is not provider:
        raise ApiError(f"Model '{model}' is not served by provider '{provider_name}'.")
    return provider


def price_of(provider, request: ProviderRequest) -> int:
    outputs = provider.outputs(request)
    table = {**model_prices(), **current_app.config["CREDIT_PRICES"]}
    key = request.model if request.model in table else provider.name
    return pricing.price(table, key, request.resolution, outputs) * provider.price_factor(request)
