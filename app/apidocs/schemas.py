"""JSON Schemas (2020-12) of the v1 API's bodies, and a validator for the subset they use."""
from app.catalog.limits import (
    API_STATUSES, DEFAULT_OUTPUT_FORMAT, MAX_FLOW_ALIASES, MAX_META_BYTES, MAX_META_DEPTH, MAX_NUM_IMAGES, MAX_PRIORITY,
    MAX_PROMPT_LENGTH, MAX_REFERENCE_IMAGES, MAX_WATERMARK_LENGTH, META_RULE, MIN_PRIORITY, NUM_IMAGES_RULE,
    OUTPUT_FORMATS, PRIORITY_RULE, PROMPT_REQUIRED, WATERMARK_RULE, meta_problem,
)
from app.errors import ApiError
from app.images.models import IMAGE_SOURCES
from app.imaging.geometry import RESOLUTIONS

NOT_AN_OBJECT = "Send a JSON object body with Content-Type: application/json."
TIMESTAMP = {"type": ["string", "null"], "format": "date-time"}
META = {
    "type": "object", "x-meta": True, "x-message": META_RULE,
    "description": f"Free-form JSON object kept with the record: at most {MAX_META_BYTES // 1024} KB as JSON, "
                   f"nested at most {MAX_META_DEPTH} deep.",
}
ALIAS = {
    "type": "string",
    "description": "'@' then 1-63 of a-z 0-9 . _ - (e.g. @front-exterior); @last, @first, @upload are reserved.",
}


FOCAL_POINT = {
    "type": "object",
    "description": "The point to keep in frame when cropping, as fractions of width and height.",
    "required": ["x", "y"],
    "additionalProperties": False,
    "properties": {
        "x": {"type": "number", "minimum": 0, "maximum": 1},
        "y": {"type": "number", "minimum": 0, "maximum": 1},
    },
}


def ref(name: str) -> dict:
    """A reference to another schema of this module, as it appears in the OpenAPI components."""
    return {"$ref": f"#/components/schemas/{name}"}


REQUEST_SCHEMAS = {
    "GenerationCreate": {
        "type": "object",
        "description": "Start a generation. `prompt` is required unless `preset` is given (the preset's prompt is used).",
        "anyOf": [{"required": ["prompt"]}, {"required": ["preset"]}],
        "properties": {
            "prompt": {"type": ["string", "null"], "maxLength": MAX_PROMPT_LENGTH,
                       "x-required-message": PROMPT_REQUIRED,
                       "description": "What to make or change. Required unless `preset` is given."},
            "referenceImages": {"type": ["array", "null"], "items": {"type": "string"},
                                "x-message": "referenceImages must be a list of image ids.",
                                "description": f"Image ids or aliases (@name) to edit; at most {MAX_REFERENCE_IMAGES}. "
                                               "Empty: text to image."},
            "aspectRatio": {"type": ["string", "null"], "description": "width:height, e.g. 16:9, 4:3 or 1:1."},
            "flowId": {"type": ["string", "null"], "description": "Flow to add the generation to."},
            "alias": {**ALIAS, "type": ["string", "null"], "description": "Project alias for the output image."},
            "flowAlias": {**ALIAS, "type": ["string", "null"], "description": "Flow alias for the output image."},
            "assignAlias": {"type": ["string", "null"], "deprecated": True, "description": "Legacy name of `alias`."},
            "assignFlowAlias": {"type": ["string", "null"], "deprecated": True, "description": "Legacy `flowAlias`."},
            "autoEnhance": {"type": ["boolean", "null"], "description": "Let the service improve the prompt first."},
            "meta": META,
            "preset": {"type": ["string", "null"], "description": "Preset id from the catalogue, e.g. enhance."},
            "model": {"type": ["string", "null"], "description": "The model to run (e.g. `local`); it picks the provider when `provider` is not given."},
            "resolution": {"type": ["string", "null"], "enum": [*RESOLUTIONS, None]},
            "numImages": {"type": "integer", "minimum": 1, "maximum": MAX_NUM_IMAGES, "default": 1,
                          "x-message": NUM_IMAGES_RULE,
                          "description": "Images to make (text to image only)."},
            "priority": {"type": "integer", "minimum": MIN_PRIORITY, "maximum": MAX_PRIORITY, "default": 0,
                         "x-message": PRIORITY_RULE,
                         "description": "Larger runs sooner."},
            "outputFormat": {"type": ["string", "null"], "enum": [*OUTPUT_FORMATS, None],
                             "default": DEFAULT_OUTPUT_FORMAT},
            "watermark": {"type": ["boolean", "string", "null"], "maxLength": MAX_WATERMARK_LENGTH,
                          "x-message": WATERMARK_RULE,
                          "description": "true for the default label, or the label text."},
            "provider": {"type": ["string", "null"], "description": "Provider name; defaults to the project's."},
            "callbackUrl": {"type": ["string", "null"], "maxLength": 2048,
                            "description": "A public http(s) URL that receives the finished generation as a signed "
                                           "POST (Standard Webhooks: webhook-id, webhook-timestamp, webhook-signature), "
                                           "retried with backoff for about 2 hours until it answers 2xx."},
        },
        "examples": [{"prompt": "Virtually stage this living room, Scandinavian style", "referenceImages": ["@living-room"],
                      "aspectRatio": "3:2", "resolution": "2K"}],
    },
    "GenerationRetry": {
        "type": "object",
        "description": "Run a generation again, optionally with a new prompt or aspect ratio.",
        "properties": {
            "prompt": {"type": ["string", "null"], "maxLength": MAX_PROMPT_LENGTH},
            "aspectRatio": {"type": ["string", "null"], "description": "width:height, e.g. 16:9."},
        },
        "examples": [{"prompt": "Brighter, warmer light"}],
    },
    "ImageUpload": {
        "type": "object",
        "description": "Multipart form: the photo and optional naming fields.",
        "required": ["file"],
        "properties": {
            "file": {"type": "string", "contentMediaType": "application/octet-stream", "description": "JPEG, PNG, WebP or HEIC (HEIC is stored as JPEG)."},
            "alias": ALIAS,
            "flowId": {"type": "string", "description": "Flow to add the image to."},
            "flowAlias": {**ALIAS, "description": "Flow alias for the image (needs flowId)."},
            "meta": {"type": "string", "description": "A JSON object, as text."},
        },
    },
    "ImageUpdate": {
        "type": "object",
        "description": "Change any of an image's alias, focal point and meta.",
        "properties": {
            "alias": {**ALIAS, "type": ["string", "null"], "x-message": "alias must be a string, or null to remove it."},
            "focalPoint": {**FOCAL_POINT, "type": ["object", "null"], "description": "Where to crop around; null clears it.",
                           "x-message": "focalPoint must be an object {x, y} with numbers from 0 to 1."},
            "meta": META,
        },
        "examples": [{"alias": "@front-exterior", "focalPoint": {"x": 0.5, "y": 0.4}}],
    },
    "ImageAlias": {
        "type": "object",
        "required": ["alias"],
        "properties": {
            "alias": {**ALIAS, "type": ["string", "null"], "x-message": "alias must be a string, or null to remove it.",
                      "x-required-message": 'Send {"alias": "@name"}, or null to remove the alias.'},
        },
        "examples": [{"alias": "@hero"}],
    },
    "FlowAliases": {
        "type": "object",
        "description": "Flow aliases: alias → image id. PUT also takes them wrapped as {\"aliases\": {...}}.",
        "maxProperties": MAX_FLOW_ALIASES,
        "x-message-maxProperties": f"A flow holds at most {MAX_FLOW_ALIASES} aliases.",
        "additionalProperties": {"type": "string", "x-message": "Each flow alias must map to an image id (a string)."},
        "examples": [{"@before": "0b6c6f7e-1111-4d7e-9c2a-3f0a5d1e2b3c"}],
    },
    "FlowCreate": {
        "type": "object",
        "description": "Start a flow: a chain of generations sharing flow-scoped aliases.",
        "properties": {"meta": META, "aliases": ref("FlowAliases")},
        "examples": [{"meta": {"listing": "12 Elm Street"}}],
    },
}

RESPONSE_SCHEMAS = {
    "FocalPoint": FOCAL_POINT,
    "Image": {
        "type": "object",
        "required": ["id", "projectId", "source", "url", "mimeType", "width", "height", "createdAt"],
        "properties": {
            "id": {"type": "string"}, "projectId": {"type": "integer"},
            "source": {"type": "string", "enum": list(IMAGE_SOURCES)},
            "url": {"type": "string", "description": "Signed, expiring URL of the file."},
            "thumbnailUrl": {"type": ["string", "null"]}, "mimeType": {"type": "string"},
            "width": {"type": "integer"}, "height": {"type": "integer"}, "fileSize": {"type": "integer"},
            "sha256": {"type": "string"}, "alias": {"type": ["string", "null"]}, "flowId": {"type": ["string", "null"]},
            "focalPoint": {"anyOf": [ref("FocalPoint"), {"type": "null"}]},
            "originalFilename": {"type": ["string", "null"]}, "generationId": {"type": ["string", "null"]},
            "meta": META, "createdAt": TIMESTAMP, "deletedAt": TIMESTAMP,
        },
    },
    "Generation": {
        "type": "object",
        "required": ["id", "projectId", "status", "prompt", "outputImages", "progress", "createdAt"],
        "properties": {
            "id": {"type": "string"}, "projectId": {"type": "integer"},
            "status": {"type": "string", "enum": list(API_STATUSES)},
            "prompt": {"type": "string"}, "preset": {"type": ["string", "null"]}, "kind": {"type": "string"},
            "providerPrompt": {"type": "string", "description": "The prompt the provider was sent: the caller's "
                               "words with the preset's own prompt (or autoEnhance wording) added."},
            "width": {"type": ["integer", "null"], "description": "The exact output width asked for, if any."},
            "height": {"type": ["integer", "null"], "description": "The exact output height asked for, if any."},
            "provider": {"type": "string"}, "model": {"type": ["string", "null"]},
            "referenceImages": {"type": "array", "items": ref("Image")}, "alias": {"type": ["string", "null"]},
            "flowAlias": {"type": ["string", "null"]}, "autoEnhance": {"type": "boolean"},
            "originalPrompt": {"type": ["string", "null"], "description": "The prompt as sent, if autoEnhance rewrote it."},
            "retryOf": {"type": ["string", "null"], "description": "The generation this one retries."},
            "aspectRatio": {"type": ["string", "null"]}, "resolution": {"type": ["string", "null"]},
            "numImages": {"type": "integer"}, "outputFormat": {"type": "string"}, "watermark": {"type": ["string", "null"]},
            "placeholder": {"type": "boolean", "description": "The local provider made a labelled placeholder "
                            "(only when the operator set ALLOW_PLACEHOLDERS for demos)."},
            "outputImage": {"anyOf": [ref("Image"), {"type": "null"}]},
            "outputImages": {"type": "array", "items": ref("Image")},
            "progress": {"type": "object", "properties": {
                "done": {"type": "integer"}, "total": {"type": "integer"},
                "percent": {"type": "integer"}, "message": {"type": ["string", "null"]}}},
            "error": {"anyOf": [{"type": "null"}, {"type": "object", "properties": {
                "code": {"type": ["string", "null"]}, "message": {"type": "string"}}}]},
            "cost": {"type": "integer", "description": "Credits reserved or spent."},
            "priority": {"type": "integer"}, "attempts": {"type": "integer"}, "cancelRequested": {"type": "boolean"},
            "queuePosition": {"type": ["integer", "null"], "description": "1 = next; null unless pending."},
            "etaSeconds": {"type": ["number", "null"]}, "flowId": {"type": ["string", "null"]}, "meta": META,
            "createdAt": TIMESTAMP, "startedAt": TIMESTAMP, "completedAt": TIMESTAMP, "deletedAt": TIMESTAMP,
        },
    },
    "Flow": {
        "type": "object",
        "required": ["id"],
        "properties": {
            "id": {"type": "string"}, "projectId": {"type": "integer"}, "aliases": ref("FlowAliases"), "meta": META,
            "generationCount": {"type": "integer"}, "imageCount": {"type": "integer"},
            "createdAt": TIMESTAMP, "updatedAt": TIMESTAMP,
        },
    },
    "AliasResolution": {
        "type": "object",
        "properties": {
            "image": ref("Image"), "alias": {"type": "string"}, "flowId": {"type": ["string", "null"]},
            "scope": {"type": "string", "enum": ["technical", "flow", "project"]},
        },
    },
    "Deleted": {"type": "object", "properties": {"id": {"type": "string"}, "deleted": {"type": "boolean"}}},
    "Pagination": {
        "type": "object",
        "required": ["total", "limit", "offset"],
        "properties": {
            "total": {"type": "integer"}, "limit": {"type": "integer"}, "offset": {"type": "integer"},
            "hasMore": {"type": "boolean"},
        },
    },
    "Error": {
        "type": "object",
        "required": ["success", "error"],
        "properties": {
            "success": {"const": False},
            "error": {"type": "object", "required": ["message", "code"], "properties": {
                "message": {"type": "string", "description": "For a person: what went wrong and what to do."},
                "code": {"type": "string", "description": "Stable, for programs: invalid_request, not_found, ..."}}},
        },
    },
}

SCHEMAS = {**REQUEST_SCHEMAS, **RESPONSE_SCHEMAS}

TYPE_PHRASES = {
    "string": "a string", "integer": "a whole number", "number": "a number", "boolean": "true or false",
    "object": "an object", "array": "a list", "null": "null",
}


def validate(schema_name: str, data) -> dict:
    """Check a request body against a named schema and return it; ApiError(400) names the first wrong field."""
    if not isinstance(data, dict):
        raise ApiError(NOT_AN_OBJECT)
    _check(SCHEMAS[schema_name], data, "")
    return data


def _check(schema: dict, value, path: str) -> None:
    schema = _resolve(schema)
    if "type" in schema and not _has_type(value, schema["type"]):
        _refuse(schema, f"{path} must be {_type_phrase(schema['type'])}")
    if "enum" in schema and value not in schema["enum"]:
        choices = ", ".join(str(choice) for choice in schema["enum"] if choice is not None)
        _refuse(schema, f"Invalid {path} {value!r}; use one of: {choices}.")
    if isinstance(value, str) and "maxLength" in schema and len(value) > schema["maxLength"]:
        _refuse(schema, f"{path} must be at most {schema['maxLength']} characters")
    if _has_type(value, "number"):
        _check_range(schema, value, path)
    if isinstance(value, list) and "items" in schema:
        for index, item in enumerate(value):
            _check(schema["items"], item, f"{path}[{index}]")
    if isinstance(value, dict):
        _check_object(schema, value, path)


def _check_object(schema: dict, value: dict, path: str) -> None:
    # Sizes before contents: a huge object is refused without looking at its members.
    if len(value) > schema.get("maxProperties", len(value)):
        raise ApiError(schema.get("x-message-maxProperties") or f"{path} has more than {schema['maxProperties']} members")
    if schema.get("x-meta") and meta_problem(value):
        _refuse(schema, meta_problem(value))
    properties = schema.get("properties", {})
    for name in schema.get("required", []):
        if name not in value:
            raise ApiError(properties.get(name, {}).get("x-required-message") or f"{_join(path, name)} is required")
    extra = schema.get("additionalProperties", True)
    for name, item in value.items():
        if name in properties:
            _check(properties[name], item, _join(path, name))
        elif extra is False:
            raise ApiError(f"Unknown field {_join(path, name)}; allowed: {', '.join(properties)}.")
        elif isinstance(extra, dict):
            _check(extra, item, _join(path, name))


def _check_range(schema: dict, value, path: str) -> None:
    low, high = schema.get("minimum"), schema.get("maximum")
    if (low is not None and value < low) or (high is not None and value > high):
        if low is not None and high is not None:
            _refuse(schema, f"{path} must be from {low} to {high}")
        _refuse(schema, f"{path} must be at least {low}" if low is not None else f"{path} must be at most {high}")


def _resolve(schema: dict) -> dict:
    """A schema with its local $ref replaced by the schema it names (sibling keys win)."""
    if "$ref" not in schema:
        return schema
    target = SCHEMAS[schema["$ref"].rsplit("/", 1)[-1]]
    return {**target, **{key: item for key, item in schema.items() if key != "$ref"}}


def _has_type(value, expected) -> bool:
    if isinstance(expected, list):
        return any(_has_type(value, one) for one in expected)
    if expected == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if expected == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    python_types = {"string": str, "boolean": bool, "object": dict, "array": list, "null": type(None)}
    return isinstance(value, python_types[expected])


def _type_phrase(expected) -> str:
    """'a string', or 'a string or a list' for a type list; null is left out since it means 'not given'."""
    names = [name for name in (expected if isinstance(expected, list) else [expected]) if name != "null"]
    return " or ".join(TYPE_PHRASES[name] for name in names or ["null"])


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _refuse(schema: dict, message: str):
    raise ApiError(schema.get("x-message") or message)
