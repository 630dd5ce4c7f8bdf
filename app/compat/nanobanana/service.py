"""A nanobanana generate request as a generation: checked in that API's terms, then handed to create_generation."""
import sqlalchemy as sa

from app.catalog.limits import MAX_REFERENCE_IMAGES
from app.errors import ApiError
from app.extensions import db
from app.generations.models import Generation
from app.generations.service import create_generation
from app.generations.spec import GenerationSpec
from app.images.inputs import ImageIntake
from app.projects.models import Project
from app.webhooks.service import check_callback_url

# Both spellings: the API's own misspelled values and the words they stand for.
TEXT_TYPES = ("TEXTTOIAMGE", "TEXTTOIMAGE")
IMAGE_TYPES = ("IMAGETOIAMGE", "IMAGETOIMAGE")
IMAGE_SIZES = ("1:1", "9:16", "16:9", "3:4", "4:3", "3:2", "2:3", "5:4", "4:5", "21:9")
MAX_NUM_IMAGES = 4
# Callbacks of these generations are built by serializers.callback_payload (jobs/webhooks.py PAYLOAD_BUILDERS).
SURFACE = "nanobanana"


def create_task(project: Project, body: dict, *, api_key=None) -> Generation:
    """Check a generate body, bring in its images and create the generation (queued for a worker on commit).

    A missing or mistyped parameter is a 400 ApiError; a well-formed value that cannot be used is a 422.
    """
    prompt = _string(body, "prompt", required=True)
    edit = _is_edit(body)
    num_images = _num_images(1 if body.get("numImages") is None else body["numImages"])
    image_size = _string(body, "image_size")
    if image_size is not None and image_size not in IMAGE_SIZES:
        raise ApiError(f"image_size must be one of: {', '.join(IMAGE_SIZES)}.", status=422)
    watermark = _string(body, "watermark")
    callback_url = _callback_url(body)
    with ImageIntake(project) as intake:  # a refused request removes the photo files it stored
        # imageUrls are the images to edit: a text-to-image request neither fetches nor uses them.
        references = [intake.add(url).id for url in _image_urls(body)] if edit else []
        spec = GenerationSpec(
            prompt=prompt, references=references, num_images=num_images, aspect_ratio=image_size, watermark=watermark,
            callback_url=callback_url, surface=SURFACE, promises_ai=True,
        )
        return create_generation(project, spec, api_key=api_key)


def get_task(project: Project, task_id: str) -> Generation:
    """A task (generation) of the project; 404 for anything else, including other workspaces' tasks."""
    query = sa.select(Generation).where(
        Generation.id == task_id[:36], Generation.project_id == project.id, Generation.deleted_at.is_(None)
    )
    generation = db.session.scalar(query)
    if generation is None:
        raise ApiError("Task not found: check the taskId that generate returned.", status=404, code="not_found")
    return generation


def _string(body: dict, name: str, required: bool = False) -> str | None:
    value = body.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise ApiError(f"{name} is required.")
        return None
    if not isinstance(value, str):
        raise ApiError(f"{name} must be a string.")
    return value.strip()


def _is_edit(body: dict) -> bool:
    """Whether the request edits images: by its type, or (without one) by whether it sends imageUrls."""
    kind = body.get("type")
    if kind is None:
        return bool(body.get("imageUrls"))
    if kind in TEXT_TYPES or kind in IMAGE_TYPES:
        return kind in IMAGE_TYPES
    raise ApiError(f"type must be one of: {', '.join(TEXT_TYPES + IMAGE_TYPES)}.")


def _num_images(value) -> int:
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # JSON has one number type: 2.0 is the whole number 2
    if not isinstance(value, int) or isinstance(value, bool):
        raise ApiError("numImages must be a whole number.")
    if not 1 <= value <= MAX_NUM_IMAGES:
        raise ApiError(f"numImages must be from 1 to {MAX_NUM_IMAGES}.", status=422)
    return value


def _image_urls(body: dict) -> list[str]:
    urls = body.get("imageUrls")
    if not urls:
        raise ApiError("imageUrls is required for IMAGETOIAMGE (image editing): send the images to edit.")
    if not isinstance(urls, list) or not all(isinstance(url, str) for url in urls):
        raise ApiError("imageUrls must be a list of image URLs.")
    if len(urls) > MAX_REFERENCE_IMAGES:
        raise ApiError(f"Send at most {MAX_REFERENCE_IMAGES} imageUrls.", status=422)
    return urls


def _callback_url(body: dict) -> str | None:
    """callBackUrl (or callbackUrl), checked now as every callback address is; an unusable one is a 422."""
    name = "callBackUrl" if "callBackUrl" in body else "callbackUrl"
    try:
        return check_callback_url(_string(body, name), field=name)
    except ApiError as refused:
        raise ApiError(refused.message, status=422) from None
