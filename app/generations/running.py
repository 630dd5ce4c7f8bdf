"""Running a generation in a worker: its provider-neutral request, its photos loaded, the provider's work,
the mask and label applied; and which provider takes over when one fails."""
import io
from dataclasses import replace

from flask import current_app
from PIL import Image as PILImage

from app.catalog.presets import get_preset
from app.extensions import db
from app.generations.models import Generation
from app.images.service import get_image
from app.images.storage import file_url, storage
from app.imaging.geometry import crop_to_exact_ratio, fit_to_size
from app.imaging.inpaint import composite_by_mask
from app.imaging.io import load_photo
from app.imaging.overlay import watermark
from app.projects.models import Project
from app.providers import routing
from app.providers.base import ProviderRequest, ProviderResult
from app.providers.registry import get_provider
from app.urls import absolute


def request_of(generation: Generation) -> ProviderRequest:
    """The provider-neutral request a generation row describes (without its photos loaded)."""
    return ProviderRequest(
        kind=generation.kind,
        prompt=generation.provider_prompt or generation.prompt,
        instructions=generation.prompt,
        preset=get_preset(generation.preset) if generation.preset else None,
        reference_ids=list(generation.reference_image_ids),
        aspect_ratio=generation.aspect_ratio,
        resolution=generation.resolution,
        num_images=generation.num_images,
        model=generation.model,
    )


def as_ordered(generation: Generation, image, focal_point=None):
    """A result in exactly the shape ordered, whoever made it: cropped (around the focal point) to the ratio
    asked, and to the exact width×height when one was asked (made at the nearest ratio the model offers)."""
    if generation.target_width and generation.target_height:
        return fit_to_size(image, generation.target_width, generation.target_height, focal_point)
    if generation.aspect_ratio:
        return crop_to_exact_ratio(image, generation.aspect_ratio, focal_point)
    return image


def fallback_for(generation: Generation) -> dict:
    """The provider and model the next attempt should use after a provider failed: the next able one
    in PROVIDER_ORDER (nothing changes when there is none, or the local engine did the work)."""
    if not getattr(get_provider(generation.provider), "models", None):
        return {}
    able = routing.next_able(request_of(generation), after=generation.provider)
    if able is None:
        return {}
    provider, model = able
    return {"provider": provider.name, "model": model}


def run_provider(generation: Generation, report, remember) -> ProviderResult:
    """Load the generation's reference photos, let its provider do the work, and label the results.

    `remember(upstream_id)` stores (and commits) an AI provider's request id before it is waited on.
    """
    report(0, 1, "Loading the photo")
    project = db.session.get(Project, generation.project_id)
    max_pixels = current_app.config["MAX_IMAGE_PIXELS"]
    rows = [get_image(project, image_id) for image_id in generation.reference_image_ids]
    references = [load_photo(storage().get(row.storage_key), max_pixels=max_pixels).image for row in rows]
    focal = (rows[0].focal_x, rows[0].focal_y) if rows and rows[0].focal_x is not None else None
    request = replace(
        request_of(generation),
        references=references,
        focal_point=focal,
        reference_urls=[absolute(file_url(row.storage_key)) for row in rows],
        upstream_id=generation.upstream_request_id,
    )
    result = get_provider(generation.provider).run(request, report, remember)
    if generation.mask_key:
        mask = PILImage.open(io.BytesIO(storage().get(generation.mask_key)))
        result = ProviderResult([composite_by_mask(references[0], image, mask) for image in result.images], result.placeholder)
    result = replace(result, images=[as_ordered(generation, image, focal) for image in result.images])
    if generation.watermark:
        return replace(result, images=[watermark(image, text=generation.watermark) for image in result.images])
    return result
