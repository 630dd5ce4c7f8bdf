"""The OpenAPI 3.1 document of the JSON API: paths from the app's URL map, each described in its surface's shapes."""
import copy
import inspect
import re

from app.apidocs.callbacks import WEBHOOKS
from app.apidocs.compat import COMPAT_OPERATIONS, COMPAT_SCHEMAS
from app.apidocs.operations import ANY_OBJECT, IDEMPOTENCY_KEY, JSON, NATIVE_OPERATIONS, ApiOperation, QueryParam
from app.apidocs.schemas import SCHEMAS, ref
from app.apidocs.sessions import SESSION_OPERATIONS, SESSION_SCHEMAS
from app.apidocs.surfaces import SECURITY_SCHEMES, SURFACES, Surface, surface_of
from app.errors import API_PREFIXES

DOCUMENT_PATHS = ("/api/openapi.json", "/api/docs")
IGNORED_METHODS = {"HEAD", "OPTIONS"}
BODY_METHODS = {"POST", "PUT", "PATCH"}
IMAGE_TYPES = ("image/jpeg", "image/png", "image/webp")
RULE_ARGUMENT = re.compile(r"<(?:(?P<converter>\w+)(?:\([^>]*\))?:)?(?P<name>\w+)>")
CONVERTER_SCHEMAS = {
    "int": {"type": "integer", "minimum": 0},
    "id": {"type": "integer", "minimum": 0, "maximum": 2**31 - 1},
    "float": {"type": "number"},
    "uuid": {"type": "string", "format": "uuid"},
}
WEB_SERVER_ANSWERS = {414}  # gunicorn refuses these before the app sees the request
OPERATIONS = {**NATIVE_OPERATIONS, **COMPAT_OPERATIONS, **SESSION_OPERATIONS}
UNREGISTERED = ApiOperation(request=ANY_OBJECT)

ERROR_RESPONSES = {
    400: ("BadRequest", "The request is invalid; the message names the field and what to send."),
    401: ("Unauthorized", "No API key, or one that is unknown, expired or revoked."),
    402: ("InsufficientCredits", "The workspace's credits do not cover the price; the message gives both."),
    403: ("Forbidden", "The signature or permission does not allow this."),
    404: ("NotFound", "No such item in this project."),
    409: ("Conflict", "The item's current state does not allow this."),
    413: ("FileTooLarge", "The file is over the upload limit; the message gives the limit."),
    414: ("UriTooLong", "The address is longer than the web server reads (about 4 KB); it answers in HTML."),
    422: ("Unprocessable", "The input is well-formed but cannot be used; the message says why."),
    429: ("RateLimited", "Too many requests for this API key; wait for the Retry-After seconds."),
    502: ("GenerationFailed", "The generation behind the image failed or was deleted; request the URL again."),
    503: ("Busy", "The service is busy for a moment; try again after Retry-After seconds."),
    504: ("StillGenerating", "The image is not ready yet; request the same URL again after Retry-After seconds."),
}
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
    "description": "Authenticate with `X-API-Key: <key>` or `Authorization: Bearer <key>` (fal's clients: "
    "`Authorization: Key <key>`). Each family of endpoints answers in its own shapes:\n\n"
    + "\n".join(f"- {surface.description}" for surface in SURFACES),
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
    """One operation: summary from the view's docstring, parameters, bodies and responses in its surface's shapes."""
    entry, surface = OPERATIONS.get(rule.endpoint, UNREGISTERED), surface_of(rule.rule)
    summary, _, description = (inspect.getdoc(app.view_functions[rule.endpoint]) or "").partition("\n")
    operation = {
        "tags": [rule.endpoint.rpartition(".")[0] or "app"],
        "summary": summary or entry.summary or _default_summary(rule.endpoint),
        "parameters": _path_parameters(rule.rule) + [_query_parameter(query) for query in entry.query],
        "responses": _responses(entry, surface, components),
        "security": _security(entry, surface),
    }
    if description.strip():
        operation["description"] = description.strip()
    if entry.idempotent:
        operation["parameters"].append(IDEMPOTENCY_KEY)
    if entry.request and method in BODY_METHODS:
        schema = {"type": "object"} if entry.request == ANY_OBJECT else ref(entry.request)
        required = entry.request != ANY_OBJECT and not entry.body_optional
        content = {media: {"schema": schema} for media in entry.request_media}
        operation["requestBody"] = {"required": required, "content": content}
    return operation


def _security(entry: ApiOperation, surface: Surface) -> list:
    """Who may call: the surface's schemes; also anyone for a signed URL ("optional"); nobody's key for "none"."""
    if entry.auth == "none" or not surface.security:
        return []
    return [{}, *surface.security] if entry.auth == "optional" else surface.security


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


def _responses(entry: ApiOperation, surface: Surface, components: dict) -> dict:
    responses = {str(entry.status): _success_response(entry, surface, components)}
    for status, schema, text in entry.answers:
        responses[str(status)] = {"description": text, "content": {JSON: {"schema": ref(schema)}}}
    if surface.error_schema is None:
        return responses  # errors ride in the success status's body
    statuses = {*surface.common_errors, *entry.errors} - ({401} if entry.auth == "none" else set())
    for status in sorted(statuses - {entry.status, *(answer[0] for answer in entry.answers)}):
        responses[str(status)] = {"$ref": f"#/components/responses/{_error_response(surface, status, components)}"}
    return responses


def _success_response(entry: ApiOperation, surface: Surface, components: dict) -> dict:
    if entry.response_media == IMAGE_TYPES:
        content = {media: {} for media in entry.response_media}
        return {"description": "The image file.", "headers": IMAGE_HEADERS, "content": content}
    if entry.response_media != (JSON,):
        schema = {"type": "string", "description": f"Events; each data line is a {entry.response or 'JSON object'}."}
        return {"description": "Server-sent events.", "content": {media: {"schema": schema} for media in entry.response_media}}
    schema = _envelope(entry.response, entry.many, components) if surface.envelope else ref(entry.response or "Any")
    response = {"description": "Success.", "content": {JSON: {"schema": schema}}}
    if entry.links:
        response["links"] = {
            f"{target}.{parameter}": {"operationId": target, "parameters": {parameter: f"$response.body#{pointer}"}}
            for target, parameter, pointer in entry.links
        }
    if entry.auth == "required" and surface.envelope:
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


def _error_response(surface: Surface, status: int, components: dict) -> str:
    """The name of the surface's response component for an error status, added on first use."""
    name, text = ERROR_RESPONSES[status]
    key = f"{surface.name}{name}"
    if key not in components["responses"]:
        components["responses"][key] = {"description": text}
        if status not in WEB_SERVER_ANSWERS:
            components["responses"][key]["content"] = {JSON: {"schema": ref(surface.error_schema)}}
        if status in (429, 503, 504):
            components["responses"][key]["headers"] = {"Retry-After": {"$ref": "#/components/headers/Retry-After"}}
    return key


def _components() -> dict:
    return {
        "schemas": {**SCHEMAS, **COMPAT_SCHEMAS, **SESSION_SCHEMAS, "Any": {"description": "Any JSON value."}},
        "responses": {},
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
