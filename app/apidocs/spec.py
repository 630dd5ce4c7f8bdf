"""The OpenAPI 3.1 document of the JSON API: paths from the app's URL map, bodies from a registry of schemas."""
import copy
import inspect
import re
from typing import NamedTuple

from app.apidocs.callbacks import WEBHOOKS
from app.apidocs.schemas import SCHEMAS, ref
from app.catalog.limits import API_STATUSES, MAX_PROMPT_LENGTH
from app.errors import API_PREFIXES
from app.images.models import IMAGE_SOURCES
from app.imaging.geometry import RESOLUTIONS
from app.pagination import DEFAULT_LIMIT, MAX_LIMIT

DOCUMENT_PATHS = ("/api/openapi.json", "/api/docs")
IGNORED_METHODS = {"HEAD", "OPTIONS"}
BODY_METHODS = {"POST", "PUT", "PATCH"}
JSON = "application/json"
IMAGE_MEDIA = ("image/jpeg", "image/png", "image/webp")
RULE_ARGUMENT = re.compile(r"<(?:(?P<converter>\w+)(?:\([^>]*\))?:)?(?P<name>\w+)>")
CONVERTER_SCHEMAS = {
    "int": {"type": "integer", "minimum": 0},
    "id": {"type": "integer", "minimum": 0, "maximum": 2**31 - 1},
    "float": {"type": "number"},
    "uuid": {"type": "string", "format": "uuid"},
}
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
    request_media: str = JSON
    body_optional: bool = False  # the body may be left out altogether
    response: str | None = None  # schema name of the envelope's `data`; None for any
    many: bool = False  # `data` is a page of `response`, with `pagination`
    response_media: tuple[str, ...] = (JSON,)
    query: tuple[QueryParam, ...] = ()
    status: int = 200
    errors: tuple[int, ...] = ()  # statuses beyond 400, 401, 404 and 429
    idempotent: bool = False  # honours an Idempotency-Key header
    auth: str = "required"  # "required", "optional" (a signed URL works too) or "none"


LIMIT = QueryParam(
    "limit", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT}, "Page size."
)
OFFSET = QueryParam("offset", {"type": "integer", "minimum": 0, "default": 0}, "Items to skip.")
PAGE = (LIMIT, OFFSET)
FLOW_ID = QueryParam("flowId", {"type": "string"}, "Only items of this flow.")
INCLUDE_DELETED = QueryParam("includeDeleted", {"type": "boolean", "default": False}, "Include soft-deleted items.")
LIVE_QUERY = (
    QueryParam("prompt", {"type": "string", "maxLength": MAX_PROMPT_LENGTH, "examples": ["sunlit kitchen"]},
               "What to show.", True),
    QueryParam("aspectRatio", {"type": "string"}, "width:height, e.g. 16:9."),
    QueryParam("resolution", {"type": "string", "enum": list(RESOLUTIONS)}, "Output size."),
    QueryParam("project", {"type": "string"}, "Project id, with sig, for a signed URL used without an API key."),
    QueryParam("sig", {"type": "string"}, "Signature of the URL, from the project's Live URLs page."),
)
HARD_DELETE = QueryParam("hard", {"type": "boolean", "default": False}, "Also remove the stored files.")
LIVE_IMAGE = ApiOperation(
    "An image for a prompt, generated once and cached", response_media=IMAGE_MEDIA, query=LIVE_QUERY,
    errors=(402, 403, 409, 502, 504), auth="optional",
)

OPERATIONS = {
    "images.api_upload": ApiOperation(
        "Upload a photo", request="ImageUpload", request_media="multipart/form-data", response="Image", status=201,
        errors=(409, 413),
    ),
    "images.api_list": ApiOperation(
        "List images", response="Image", many=True, query=(*PAGE, FLOW_ID, INCLUDE_DELETED,
        QueryParam("source", {"type": "string", "enum": list(IMAGE_SOURCES)}, "Only uploaded or generated images."),
        QueryParam("alias", {"type": "string"}, "Only the image with this project alias.")),
    ),
    "images.api_detail": ApiOperation("Read an image", response="Image"),
    "images.api_update": ApiOperation("Update an image", request="ImageUpdate", response="Image", errors=(409,)),
    "images.api_set_alias": ApiOperation("Set an image's alias", request="ImageAlias", response="Image", errors=(409,)),
    "images.api_delete": ApiOperation("Delete an image", response="Deleted", query=(HARD_DELETE,)),
    "images.api_resolve": ApiOperation("Resolve an alias", response="AliasResolution", query=(FLOW_ID,)),
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
UNREGISTERED = ApiOperation(request=ANY_OBJECT)

ERROR_RESPONSES = {
    400: ("BadRequest", "The request is invalid; the message names the field and what to send."),
    401: ("Unauthorized", "No API key, or one that is unknown, expired or revoked."),
    402: ("InsufficientCredits", "The workspace's credits do not cover the price; the message gives both."),
    403: ("Forbidden", "The signature or permission does not allow this."),
    404: ("NotFound", "No such item in this project."),
    409: ("Conflict", "The item's current state does not allow this."),
    413: ("FileTooLarge", "The file is over the upload limit; the message gives the limit."),
    429: ("RateLimited", "Too many requests for this API key; wait for the Retry-After seconds."),
    502: ("GenerationFailed", "The generation behind the image failed or was deleted; request the URL again."),
    503: ("Busy", "The service is busy for a moment; try again after Retry-After seconds."),
    504: ("StillGenerating", "The image is not ready yet; request the same URL again after Retry-After seconds."),
}
SECURITY_SCHEMES = {
    "ApiKeyHeader": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
    "BearerAuth": {"type": "http", "scheme": "bearer", "description": "Authorization: Bearer <API key>."},
}
KEY_SECURITY = [{"ApiKeyHeader": []}, {"BearerAuth": []}]
SECURITY = {"required": KEY_SECURITY, "optional": [{}, *KEY_SECURITY], "none": []}
KEY_HEADERS = {
    "X-Credits-Balance": "Credits left in the workspace.",
    "X-RateLimit-Limit": "Requests this API key may make per hour.",
    "X-RateLimit-Remaining": "Requests left in the current hour.",
    "X-RateLimit-Reset": "When the hour's budget resets (Unix time).",
}
IMAGE_HEADERS = {
    "X-Cache-Status": {"schema": {"type": "string", "enum": ["HIT", "MISS"]}, "description": "From the cache, or made now."},
    "X-Image-Id": {"schema": {"type": "string"}, "description": "The image's id in the project."},
}
TAG_DESCRIPTIONS = {
    "images": "Upload photos, list them, name them with aliases, delete them.",
    "generations": "Start, follow, retry and cancel image generations.",
    "flows": "Chains of generations that share flow-scoped aliases.",
    "live": "Live URLs: an image for a prompt in a plain GET, generated once and cached.",
}
INFO = {
    "title": "Stagecraft API",
    "version": "1",
    "description": "Errors are `{\"success\": false, \"error\": {\"message\", \"code\"}}`; the message is for a person, "
    "the code for programs. Authenticate with `X-API-Key: <key>` or `Authorization: Bearer <key>`.",
}


def build_spec(app, server_url: str = "/") -> dict:
    """The OpenAPI 3.1 document of every API route the app has now."""
    components = _components()
    paths, operation_ids = {}, set()
    for rule in api_rules(app):
        path_item = paths.setdefault(openapi_path(rule.rule), {})
        for method in sorted(rule.methods - IGNORED_METHODS):
            operation = build_operation(app, rule, method, components)
            operation["operationId"] = _unique_operation_id(rule.endpoint, method, operation_ids)
            path_item[method.lower()] = operation
    document = {"openapi": "3.1.0", "info": INFO, "servers": [{"url": server_url}], "tags": _tags(paths)}
    # A copy, so the module's constants that the document shares stay untouched whatever callers do with it.
    return copy.deepcopy({**document, "paths": paths, "webhooks": WEBHOOKS, "components": components})


def api_rules(app) -> list:
    """The app's URL rules on API paths, except this document and its page, in path order."""
    rules = [r for r in app.url_map.iter_rules() if r.rule.startswith(API_PREFIXES) and r.rule not in DOCUMENT_PATHS]
    return sorted(rules, key=lambda rule: (rule.rule, rule.endpoint))


def openapi_path(rule: str) -> str:
    """A werkzeug rule as an OpenAPI path template: /images/<image_id> → /images/{image_id}."""
    return RULE_ARGUMENT.sub(lambda match: "{" + match["name"] + "}", rule)


def build_operation(app, rule, method: str, components: dict) -> dict:
    """One operation: summary from the view's docstring, parameters, bodies and responses."""
    entry = OPERATIONS.get(rule.endpoint, UNREGISTERED)
    summary, _, description = (inspect.getdoc(app.view_functions[rule.endpoint]) or "").partition("\n")
    operation = {
        "tags": [rule.endpoint.rpartition(".")[0] or "app"],
        "summary": summary or entry.summary or _default_summary(rule.endpoint),
        "parameters": _path_parameters(rule.rule) + [_query_parameter(query) for query in entry.query],
        "responses": _responses(entry, components),
        "security": SECURITY[entry.auth],
    }
    if description.strip():
        operation["description"] = description.strip()
    if entry.idempotent:
        operation["parameters"].append(IDEMPOTENCY_KEY)
    if entry.request and method in BODY_METHODS:
        schema = {"type": "object"} if entry.request == ANY_OBJECT else ref(entry.request)
        required = entry.request != ANY_OBJECT and not entry.body_optional
        operation["requestBody"] = {"required": required, "content": {entry.request_media: {"schema": schema}}}
    return operation


def _path_parameters(rule: str) -> list[dict]:
    return [
        {
            "name": match["name"],
            "in": "path",
            "required": True,
            "schema": dict(CONVERTER_SCHEMAS.get(match["converter"], {"type": "string"})),
            "description": match["name"].replace("_", " ").capitalize() + ".",
        }
        for match in RULE_ARGUMENT.finditer(rule)
    ]


def _query_parameter(query: QueryParam) -> dict:
    return {
        "name": query.name, "in": "query", "required": query.required, "schema": query.schema,
        "description": query.description,
    }


def _responses(entry: ApiOperation, components: dict) -> dict:
    responses = {str(entry.status): _success_response(entry, components)}
    statuses = {400, 404, 429, 503, *entry.errors} | (set() if entry.auth == "none" else {401})
    for status in sorted(statuses):
        responses[str(status)] = {"$ref": f"#/components/responses/{ERROR_RESPONSES[status][0]}"}
    return responses


def _success_response(entry: ApiOperation, components: dict) -> dict:
    if entry.response_media != (JSON,):
        content = {media: {} for media in entry.response_media}
        return {"description": "The image file.", "headers": IMAGE_HEADERS, "content": content}
    response = {"description": "Success.", "content": {JSON: {"schema": _envelope(entry.response, entry.many, components)}}}
    if entry.auth == "required":
        response["headers"] = {name: {"$ref": f"#/components/headers/{name}"} for name in KEY_HEADERS}
    return response


def _envelope(name: str | None, many: bool, components: dict) -> dict:
    """A reference to the success envelope around `name`, added to the components on first use."""
    key = f"{name or 'Success'}{'List' if many else ''}Response"
    if key not in components["schemas"]:
        data = ref(name) if name else {"description": "The result."}
        properties = {"success": {"const": True}, "data": {"type": "array", "items": data} if many else data}
        if many:
            properties["pagination"] = ref("Pagination")
        components["schemas"][key] = {"type": "object", "required": list(properties), "properties": properties}
    return ref(key)


def _components() -> dict:
    responses = {}
    for status, (name, text) in ERROR_RESPONSES.items():
        responses[name] = {"description": text, "content": {JSON: {"schema": ref("Error")}}}
        if status in (429, 503, 504):
            responses[name]["headers"] = {"Retry-After": {"$ref": "#/components/headers/Retry-After"}}
    return {
        "schemas": dict(SCHEMAS),
        "responses": responses,
        "headers": {name: {"schema": {"type": "integer"}, "description": text} for name, text in KEY_HEADERS.items()}
        | {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait before trying again."}},
        "securitySchemes": SECURITY_SCHEMES,
    }


def _tags(paths: dict) -> list[dict]:
    names = dict.fromkeys(tag for item in paths.values() for operation in item.values() for tag in operation["tags"])
    known_order = list(TAG_DESCRIPTIONS)
    names = sorted(names, key=lambda name: known_order.index(name) if name in known_order else len(known_order))
    return [{"name": name, "description": TAG_DESCRIPTIONS.get(name, f"The {name} endpoints.")} for name in names]


def _default_summary(endpoint: str) -> str:
    blueprint, _, name = endpoint.rpartition(".")
    words = name.removeprefix("api_").replace("_", " ").capitalize()
    return f"{words} ({blueprint})" if blueprint else words


def _unique_operation_id(endpoint: str, method: str, used: set) -> str:
    """The endpoint name; with the method (and a number) when one endpoint serves several operations."""
    with_method = f"{endpoint}.{method.lower()}"
    candidate, number = (endpoint if endpoint not in used else with_method), 2
    while candidate in used:
        candidate, number = f"{with_method}{number}", number + 1
    used.add(candidate)
    return candidate
