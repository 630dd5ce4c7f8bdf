"""What each assistant tool does, in the Flask app: find the key, call one service, commit, describe the result.

Each function runs on its own worker thread inside its own app context (routes.py), so it reads and
writes the database like a request would, and answers with plain dicts an assistant can read.
"""
from flask import current_app

from app.auth.service import find_api_key, note_key_use_at_commit
from app.catalog.limits import MAX_PROMPT_LENGTH
from app.credits import service as credits
from app.errors import ApiError
from app.extensions import db
from app.generations import progress
from app.generations.models import Generation, GenerationStatus
from app.generations.service import create_generation, get_generation, preset_offers
from app.generations.spec import GenerationSpec
from app.images.aliases import resolve_reference
from app.images.inputs import ImageIntake
from app.images.serializers import image_json

# A refusal by an AI service's safety filter: the assistant should ask its user for other wording.
REPHRASE = (
    "The image service's content filter refused this request, so nothing was charged. "
    "Please rephrase the prompt (describe the listing photo plainly) and try again."
)
MAX_WAIT_SECONDS = 60


class ToolRefusal(Exception):
    """A tool call that cannot succeed as asked; the message tells the assistant what to do instead."""


def authenticate(plaintext: str | None):
    """The API key behind a request (its use noted, at most once a minute); ApiError 401 saying why otherwise."""
    key = find_api_key(plaintext)
    note_key_use_at_commit(key)  # in the call's one commit, not here: a write now would hold the lock while it waits
    return key


def generate_image(plaintext: str, prompt: str, aspect_ratio: str | None = None, num_images: int = 1) -> dict:
    """Start a text-to-image generation."""
    key = authenticate(plaintext)
    spec = GenerationSpec(prompt=prompt, aspect_ratio=aspect_ratio, num_images=num_images)
    return _start(key, spec)


def edit_image(plaintext: str, image: str, prompt: str | None = None, preset: str | None = None,
               aspect_ratio: str | None = None) -> dict:
    """Start an edit of one photo (an image id or alias of the project, an https URL or a data: URI)."""
    key = authenticate(plaintext)
    if not (prompt or preset):
        raise ApiError("Say what to change in `prompt`, or pick a preset (list_presets shows them).")
    with ImageIntake(key.project) as intake:  # a refused edit removes the photo file it stored
        source = _source_image(intake, image)
        spec = GenerationSpec(prompt=prompt, preset=preset, references=[source.id], aspect_ratio=aspect_ratio)
        return _start(key, spec)


def get_task(plaintext: str, task_id: str, wait_seconds: float = 0) -> dict:
    """Where a generation stands (waiting up to wait_seconds for it to finish), with results and credits left."""
    key = authenticate(plaintext)
    generation = get_generation(key.project, task_id)
    wait_seconds = min(max(float(wait_seconds or 0), 0), MAX_WAIT_SECONDS)
    if wait_seconds and not generation.is_terminal:
        generation = progress.wait_for_end(generation, wait_seconds)
    if generation.status is GenerationStatus.FAILED and generation.error_code == "content_policy":
        raise ToolRefusal(REPHRASE)
    return _task(generation, key.project.workspace_id)


def get_credits(plaintext: str) -> dict:
    """The workspace's credit balance."""
    key = authenticate(plaintext)
    balance = credits.balance(key.project.workspace_id)
    low = balance < current_app.config["LOW_BALANCE_THRESHOLD"]
    return {"credits_remaining": balance, "low": low}


def list_presets(plaintext: str) -> dict:
    """The edits the project can order, what each costs on one photo and who does it."""
    key = authenticate(plaintext)
    presets = [
        {
            "id": offer.preset.id,
            "name": offer.preset.name,
            "description": offer.preset.description,
            "room_types": list(offer.preset.room_types),
            "available": offer.available,
            "credits_per_photo": offer.credits,
            "done_by": offer.service,
            **({"why_not": offer.refusal} if offer.refusal else {}),
        }
        for offer in preset_offers(key.project)
    ]
    return {"presets": presets}


def _start(key, spec: GenerationSpec) -> dict:
    if spec.prompt and len(spec.prompt) > MAX_PROMPT_LENGTH:
        raise ApiError(f"The prompt is too long: keep it under {MAX_PROMPT_LENGTH} characters.")
    generation = create_generation(key.project, spec, api_key=key)
    db.session.commit()
    task = _task(generation, key.project.workspace_id)
    task["message"] = (
        f"Started ({generation.cost} credits reserved). It usually takes under a minute; "
        f"call get_task with task_id {generation.id} (wait_seconds up to {MAX_WAIT_SECONDS}) for the result."
    )
    return task


def _task(generation: Generation, workspace_id: int) -> dict:
    outputs = [image for image in generation.outputs if image.deleted_at is None]
    task = {
        "task_id": generation.id,
        "status": generation.status.value,
        "kind": generation.kind,
        "preset": generation.preset,
        "progress_percent": generation.percent,
        "progress_message": generation.progress_message,
        "credits_cost": generation.cost,
        "credits_remaining": credits.balance(workspace_id),
        "result_urls": [image_json(image)["url"] for image in outputs],
        "result_image_ids": [image.id for image in outputs],
    }
    if generation.is_placeholder:
        task["note"] = "The results are placeholders: no AI image service is connected for text-to-image."
    if generation.status in (GenerationStatus.FAILED, GenerationStatus.CANCELED):
        task["error"] = generation.error_message or generation.status.value
        task["refunded"] = bool(generation.cost)
    return task


def _source_image(intake: ImageIntake, image: str):
    """A project image from an id or alias, or one brought in from a data: URI or an http(s) URL."""
    if not isinstance(image, str) or not image.strip():
        raise ApiError("`image` must be an image id, an alias, an https URL or a data: URI.")
    image = image.strip()
    if image[:5].lower() == "data:" or image.startswith(("http://", "https://")):
        return intake.add(image)
    return resolve_reference(intake.project, image)
