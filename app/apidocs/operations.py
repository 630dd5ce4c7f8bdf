"""What the document says about each native v1 endpoint beyond its URL rule."""
from typing import NamedTuple

from app.catalog.limits import API_STATUSES, MAX_PROMPT_LENGTH
from app.images.models import IMAGE_SOURCES
from app.imaging.geometry import RESOLUTIONS
from app.pagination import DEFAULT_LIMIT, MAX_LIMIT

JSON = "application/json"
IMAGE_MEDIA = ("image/jpeg", "image/png", "image/webp")
EVENT_STREAM = "text/event-stream"
ANY_OBJECT = "*"

IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key", "in": "header", "required": False, "schema": {"type": "string", "maxLength": 255},
    "description": "Repeat a request with the same key within 24 h to get the original response instead of new work.",
}


class QueryParam(NamedTuple):
    name: str
    schema: dict
    description: str = ""
    required: bool = False


class ApiOperation(NamedTuple):
    """What the document says about one endpoint beyond its URL rule."""

    summary: str = ""  # used when the view has no docstring
    request: str | None = None  # schema name of the body; ANY_OBJECT for an unknown JSON object
    request_media: tuple[str, ...] = (JSON,)
    body_optional: bool = False  # the body may be left out altogether
    response: str | None = None  # schema name of the success body (of the envelope's `data` on enveloped surfaces)
    many: bool = False  # `data` is a page of `response`, with `pagination`
    response_media: tuple[str, ...] = (JSON,)
    query: tuple[QueryParam, ...] = ()
    status: int = 200
    errors: tuple[int, ...] = ()  # statuses beyond the surface's common ones, in its error shape
    idempotent: bool = False  # honours an Idempotency-Key header
    auth: str = "required"  # "required", "optional" (a signed URL works too) or "none"
    # Other answers with a body of their own: status → (schema name, description), e.g. 202 while still running.
    answers: tuple[tuple[int, str, str], ...] = ()
    # Operations the success answer leads to: (operationId, its parameter, JSON pointer into this answer's body).
    links: tuple[tuple[str, str, str], ...] = ()


LIMIT = QueryParam(
    "limit", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT}, "Page size."
)
OFFSET = QueryParam("offset", {"type": "integer", "minimum": 0, "default": 0}, "Items to skip.")
PAGE = (LIMIT, OFFSET)
FLOW_ID = QueryParam("flowId", {"type": "string"}, "Only items of this flow.")
INCLUDE_DELETED = QueryParam("includeDeleted", {"type": "boolean", "default": False}, "Include soft-deleted items.")
LIVE_QUERY = (
    QueryParam("prompt", {"type": "string", "maxLength": MAX_PROMPT_LENGTH, "examples": ["sunlit kitchen"]},
               "What to show. The whole URL must stay under about 4 KB (414 otherwise): longer prompts, or ones "
               "mostly outside ASCII, belong in POST /api/v1/generations.", True),
    QueryParam("aspectRatio", {"type": "string"}, "width:height, e.g. 16:9."),
    QueryParam("resolution", {"type": "string", "enum": list(RESOLUTIONS)}, "Output size."),
    QueryParam("project", {"type": "string"}, "Project id, with sig, for a signed URL used without an API key."),
    QueryParam("sig", {"type": "string"}, "Signature of the URL, from the project's Live URLs page."),
)
HARD_DELETE = QueryParam("hard", {"type": "boolean", "default": False}, "Also remove the stored files.")
LIVE_IMAGE = ApiOperation(
    "An image for a prompt, generated once and cached", response_media=IMAGE_MEDIA, query=LIVE_QUERY,
    errors=(402, 403, 409, 414, 502, 504), auth="optional",
)

NATIVE_OPERATIONS = {
    "images_api.upload": ApiOperation(
        "Upload a photo", request="ImageUpload", request_media=("multipart/form-data",), response="Image", status=201,
        errors=(409, 413),
    ),
    "images_api.list_images": ApiOperation(
        "List images", response="Image", many=True, query=(*PAGE, FLOW_ID, INCLUDE_DELETED,
        QueryParam("source", {"type": "string", "enum": list(IMAGE_SOURCES)}, "Only uploaded or generated images."),
        QueryParam("alias", {"type": "string"}, "Only the image with this project alias.")),
    ),
    "images_api.detail": ApiOperation("Read an image", response="Image"),
    "images_api.update": ApiOperation("Update an image", request="ImageUpdate", response="Image", errors=(409,)),
    "images_api.set_alias": ApiOperation("Set an image's alias", request="ImageAlias", response="Image", errors=(409,)),
    "images_api.delete": ApiOperation("Delete an image", response="Deleted", query=(HARD_DELETE,)),
    "images_api.resolve": ApiOperation("Resolve an alias", response="AliasResolution", query=(FLOW_ID,)),
    "generations.api_list": ApiOperation(
        "List generations", response="Generation", many=True, query=(*PAGE, FLOW_ID, INCLUDE_DELETED,
        QueryParam("status", {"type": "string", "enum": list(API_STATUSES)}, "Only these.")),
    ),
    "generations.api_create": ApiOperation(
        "Start a generation", request="GenerationCreate", response="Generation", status=201, errors=(402, 409),
        idempotent=True,
    ),
    "generations.api_detail": ApiOperation("Read a generation", response="Generation"),
    "generations.api_cancel": ApiOperation("Cancel a generation", response="Generation", errors=(409,)),
    "generations.api_retry": ApiOperation(
        "Retry a generation", request="GenerationRetry", body_optional=True, response="Generation", status=201,
        errors=(402, 409), idempotent=True,
    ),
    "generations.api_delete": ApiOperation("Delete a generation", response="Deleted", query=(HARD_DELETE,)),
    "flows.api_list": ApiOperation("List flows", response="Flow", many=True, query=PAGE),
    "flows.api_create": ApiOperation("Start a flow", request="FlowCreate", body_optional=True, response="Flow", status=201),
    "flows.api_detail": ApiOperation("Read a flow", response="Flow"),
    "flows.api_generations": ApiOperation(
        "List a flow's generations", response="Generation", many=True, query=(*PAGE, INCLUDE_DELETED)
    ),
    "flows.api_images": ApiOperation("List a flow's images", response="Image", many=True, query=(*PAGE, INCLUDE_DELETED)),
    "flows.api_update_aliases": ApiOperation("Add or change flow aliases", request="FlowAliases", response="Flow"),
    "flows.api_delete_alias": ApiOperation("Remove a flow alias", response="Flow"),
    "flows.api_delete": ApiOperation("Delete a flow", response="Deleted"),
    "live.image": LIVE_IMAGE,
    "live.live_image": LIVE_IMAGE,  # the name first announced for it
}
