"""The document's view of the compatible surfaces (fal queue, nanobanana, process-image), in their own shapes."""
from app.apidocs.operations import EVENT_STREAM, JSON, ApiOperation, QueryParam
from app.apidocs.schemas import ref
from app.catalog.limits import MAX_NUM_IMAGES, MAX_PRIORITY, MAX_PROMPT_LENGTH, MAX_REFERENCE_IMAGES, MIN_PRIORITY
from app.compat.nanobanana.service import IMAGE_SIZES, IMAGE_TYPES, TEXT_TYPES
from app.imaging.geometry import RESOLUTIONS

STRING_OR_NULL = {"type": ["string", "null"]}
PROMPT = {"type": "string", "minLength": 1, "maxLength": MAX_PROMPT_LENGTH}
FAL_URLS = ("request_id", "response_url", "status_url", "cancel_url")
# pipelet sends sizes as numbers or as strings of digits ("3200").
WHOLE_OR_DIGITS = {"anyOf": [{"type": "integer", "minimum": 16, "maximum": 8192},
                             {"type": "string", "pattern": "^[0-9]{2,4}$"}, {"type": "null"}]}

FAL_SCHEMAS = {
    "FalInput": {
        "type": "object",
        "description": "A model's input. Text models need `prompt`; edit models also `image_urls`.",
        "properties": {
            "prompt": STRING_OR_NULL,
            "image_urls": {"type": ["array", "null"], "maxItems": MAX_REFERENCE_IMAGES,
                           "items": {"type": "string", "minLength": 1}, "description": "Photo URLs or data URIs."},
            "num_images": {"type": ["integer", "null"], "minimum": 1, "maximum": MAX_NUM_IMAGES},
            "aspect_ratio": {**STRING_OR_NULL, "description": "width:height, or auto to keep the photo's shape."},
            "resolution": {"type": ["string", "null"], "enum": [*RESOLUTIONS, None]},
            "output_format": {"type": ["string", "null"], "enum": ["jpeg", "jpg", "png", "webp", None]},
            "seed": {"type": ["integer", "null"], "minimum": 0, "maximum": 2**32 - 1},
            "width": {**WHOLE_OR_DIGITS, "description": "pipelet: with height, the ratio and the nearest resolution."},
            "height": WHOLE_OR_DIGITS,
            "batch_size": {"type": ["integer", "null"], "minimum": 1, "maximum": MAX_NUM_IMAGES,
                           "description": "pipelet's name for num_images."},
            "priority": {"type": ["integer", "null"], "minimum": MIN_PRIORITY, "maximum": MAX_PRIORITY,
                         "description": "Larger runs sooner."},
        },
        "examples": [{"prompt": "Warm evening light", "image_urls": ["https://example.com/living-room.jpg"]},
                     {"width": "1600", "height": "1200", "batch_size": 2, "prompt": "A sunlit kitchen"}],
    },
    "FalSubmitted": {
        "type": "object",
        "required": [*FAL_URLS, "queue_position"],
        "properties": {
            **{name: {"type": "string"} for name in FAL_URLS}, "gateway_request_id": {"type": "string"},
            "queue_position": {"type": "integer", "minimum": 0},
        },
    },
    "FalStatus": {
        "type": "object",
        "required": ["status", *FAL_URLS, "queue_position"],
        "properties": {
            "status": {"type": "string", "enum": ["IN_QUEUE", "IN_PROGRESS", "COMPLETED"]},
            **{name: {"type": "string"} for name in FAL_URLS},
            "queue_position": {"type": "integer", "minimum": 0,
                               "description": "In every answer: 0 = next, or running."},
            "logs": {"type": ["array", "null"], "items": {"type": "object"}},
            "metrics": {"type": "object"},
            "error": STRING_OR_NULL, "error_type": {"type": "string"},
            "statusMessages": {"type": "object"},
        },
    },
    "FalResult": {
        "type": "object",
        "required": ["images"],
        "properties": {
            "images": {"type": "array", "items": {"type": "object", "required": ["url"], "properties": {
                "url": {"type": "string"}, "content_type": {"type": "string"}, "file_name": {"type": "string"},
                "file_size": {"type": "integer"}, "width": {"type": "integer"}, "height": {"type": "integer"}}}},
            "description": {"type": "string"}, "seed": {"type": "integer"},
            "image": {"type": "object", "description": "z-image models (pipelet): the first image.",
                      "properties": {"data_uri": {"type": "string", "description": "A signed download URL."},
                                     "file_name": {"type": "string"}}},
            "results": {"type": "array", "items": {"type": "string"}, "description": "z-image models: every image's URL."},
        },
    },
    "FalCancel": {
        "type": "object",
        "required": ["status"],
        "properties": {"status": {"type": "string", "enum": ["CANCELLATION_REQUESTED", "ALREADY_COMPLETED", "NOT_FOUND"]},
                       "detail": {"type": "string"}},
    },
    "FalError": {
        "type": "object",
        "required": ["detail"],
        "description": "`detail` is a message, or for a refused input a list of {loc, msg, type}.",
        "properties": {
            "detail": {"anyOf": [{"type": "string"}, {"type": "array", "items": ref("FalErrorItem")}]},
            "error_type": {"type": "string"}, "status": {"type": "string"},
        },
    },
    "FalErrorItem": {
        "type": "object",
        "required": ["loc", "msg", "type"],
        "properties": {"loc": {"type": "array"}, "msg": {"type": "string"}, "type": {"type": "string"}},
    },
}

NANOBANANA_SCHEMAS = {
    "NanoBananaGenerate": {
        "type": "object",
        "required": ["prompt"],
        "properties": {
            "prompt": PROMPT,
            "type": {"type": "string", "enum": [*TEXT_TYPES, *IMAGE_TYPES],
                     "description": "Text to image (default) or an edit of imageUrls; both of the API's spellings."},
            "numImages": {"type": "integer", "minimum": 1, "maximum": MAX_NUM_IMAGES},
            "imageUrls": {"type": "array", "items": {"type": "string"}, "maxItems": MAX_REFERENCE_IMAGES},
            "image_size": {"type": "string", "enum": list(IMAGE_SIZES)}, "watermark": {"type": "string"}, "callBackUrl": {"type": "string"},
        },
        "examples": [{"prompt": "A sunlit kitchen", "type": TEXT_TYPES[0], "numImages": 1}],
    },
    "NanoBananaAnswer": {
        "type": "object",
        "required": ["code", "msg", "data"],
        "description": "Always HTTP 200: `code` 200 is success (with `data`); anything else is an error (data null).",
        "properties": {"code": {"type": "integer"}, "msg": {"type": "string"}, "data": {}},
    },
}

PROCESS_IMAGE_SCHEMAS = {
    "ProcessImageRecordCreate": {
        "type": "object",
        "description": "A photo (imageId, or a multipart `image` file) and its style prompt. "
                       "A signed-in person also names projectId when uploading.",
        "required": ["prompt"],
        "properties": {"imageId": {"type": "string"}, "prompt": PROMPT, "projectId": {"type": "integer"},
                       "image": {"type": "string", "contentMediaType": "image/jpeg", "description": "Multipart only."}},
    },
    "ProcessImageRun": {"type": "object", "required": ["imageId"], "properties": {"imageId": {"type": "string"}}},
    "ProcessImageInpaint": {
        "type": "object",
        "required": ["prompt"],
        "properties": {"imageId": {"type": "string"}, "prompt": PROMPT,
                       "mask": {"type": "string", "description": "PNG data URL (or a multipart file); white marks what to change."},
                       "maskDataUrl": {"type": "string"}, "projectId": {"type": "integer"}},
    },
    "ProcessImageRecord": {
        "type": "object",
        "required": ["id", "projectId", "imageId", "status"],
        "properties": {
            "id": {"type": "string"}, "workspaceId": {"type": "integer"}, "userId": {"type": ["integer", "null"]},
            "projectId": {"type": "integer"}, "imageId": {"type": "string"}, "originalImageUrl": {"type": "string"},
            "resultImageUrl": STRING_OR_NULL, "prompt": STRING_OR_NULL, "inpaint": {"type": "boolean"},
            "status": {"type": "string", "enum": ["pending", "processing", "completed", "failed"]},
            "errorMessage": STRING_OR_NULL, "progress": {"type": "integer"}, "creditsCost": {"type": "integer"},
            "projectCompletedCount": {"type": ["integer", "null"]}, "createdAt": STRING_OR_NULL,
            "updatedAt": STRING_OR_NULL,
        },
    },
    "ProcessImageRecordAnswer": {
        "type": "object", "required": ["success", "data"],
        "properties": {"success": {"const": True}, "data": ref("ProcessImageRecord")},
    },
    "ProcessImageRecordPage": {
        "type": "object", "required": ["success", "data", "pagination"],
        "properties": {"success": {"const": True}, "data": {"type": "array", "items": ref("ProcessImageRecord")},
                       "pagination": ref("Pagination")},
    },
    "ProcessImageHealth": {
        "type": "object", "required": ["status"],
        "properties": {"status": {"const": "ok"}, "service": {"type": "string"}, "waitSeconds": {"type": "number"}},
    },
    "ProcessImageDone": {
        "type": "object", "required": ["success", "url"],
        "properties": {"success": {"const": True}, "url": STRING_OR_NULL, "resultUrl": STRING_OR_NULL,
                       "imageGenerationId": {"type": "string"}, "message": {"type": "string"}},
    },
    "ProcessImageAnswer": {
        "description": "An edit that ends within PROCESS_IMAGE_WAIT is answered with its own status (200, or 500 "
                       "if it failed). A longer one holds the request, sending whitespace before this body, and "
                       "answers 200 with the result, or with success false if it failed (the status was sent).",
        "anyOf": [ref("ProcessImageDone"), ref("ProcessImageFailed")],
    },
    "ProcessImageFailed": {
        "type": "object", "required": ["error", "details"],
        "description": "The edit failed (its credits are refunded); `details` says why.",
        "properties": {"success": {"const": False}, "error": {"type": "string"}, "details": {"type": "string"},
                       "imageGenerationId": {"type": "string"}},
    },
    "ProcessImageError": {
        "type": "object", "required": ["success", "error", "code"],
        "properties": {"success": {"const": False}, "error": {"type": "string"}, "code": {"type": "string"}},
    },
}

FAL_LOGS = QueryParam("logs", {"type": "string", "enum": ["0", "1", "true", "false"]}, "1 to include log lines.")
FAL_RUNNING = (202, "FalStatus", "Queued or running.")
PROCESS_IMAGE_OUTCOME = ((500, "ProcessImageFailed", "The edit failed at the provider; its credits were refunded."),)
PAGE = (
    QueryParam("limit", {"type": "integer", "minimum": 1, "maximum": 100}, "Page size."),
    QueryParam("offset", {"type": "integer", "minimum": 0}, "Items to skip."),
)

COMPAT_OPERATIONS = {
    "fal.submit": ApiOperation(
        request="FalInput", response="FalSubmitted", errors=(400, 402, 409, 413, 422), idempotent=True,
        links=tuple((f"fal.{name}", "request_id", "/request_id") for name in ("status", "status_stream", "cancel", "result")),
        query=(QueryParam("fal_webhook", {"type": "string"}, "A public URL called when the request finishes."),),
    ),
    "fal.status": ApiOperation(response="FalStatus", query=(FAL_LOGS,), answers=(FAL_RUNNING,)),
    "fal.status_stream": ApiOperation(response="FalStatus", response_media=(EVENT_STREAM,), query=(FAL_LOGS,)),
    "fal.cancel": ApiOperation(
        response="FalCancel", status=202, answers=((400, "FalCancel", "The request has already finished."),),
    ),
    "fal.result": ApiOperation(
        response="FalResult", errors=(422, 502, 504),
        answers=(
            (400, "FalError", "Still queued or running, or canceled."),
            (500, "FalError", "The request failed inside the service; error_type says how (fal's contract)."),
        ),
    ),
    "nanobanana.generate": ApiOperation(
        request="NanoBananaGenerate", response="NanoBananaAnswer", idempotent=True,
        links=(("nanobanana.record_info", "taskId", "/data/taskId"),),
    ),
    "nanobanana.record_info": ApiOperation(
        response="NanoBananaAnswer", query=(QueryParam("taskId", {"type": "string"}, "From generate.", True),),
    ),
    "nanobanana.credit": ApiOperation(response="NanoBananaAnswer"),
    "process_image.health": ApiOperation(response="ProcessImageHealth", auth="none"),
    "process_image.create_record": ApiOperation(
        request="ProcessImageRecordCreate", request_media=(JSON, "multipart/form-data"),
        response="ProcessImageRecordAnswer", status=201, errors=(402, 409, 422), idempotent=True,
        links=(("process_image.record_status", "record_id", "/data/id"),),
    ),
    "process_image.list_records": ApiOperation(
        response="ProcessImageRecordPage",
        query=(*PAGE, QueryParam("status", {"type": "string", "enum": ["pending", "processing", "completed", "failed"]},
                                 "Only these.")),
    ),
    "process_image.record_status": ApiOperation(response="ProcessImageRecordAnswer"),
    "process_image.process_image": ApiOperation(
        request="ProcessImageRun", response="ProcessImageAnswer", errors=(402, 409), answers=PROCESS_IMAGE_OUTCOME,
    ),
    "process_image.inpaint_image": ApiOperation(
        request="ProcessImageInpaint", request_media=(JSON, "multipart/form-data"), response="ProcessImageAnswer",
        errors=(402, 409, 422), answers=PROCESS_IMAGE_OUTCOME, idempotent=True,
    ),
}
COMPAT_SCHEMAS = {**FAL_SCHEMAS, **NANOBANANA_SCHEMAS, **PROCESS_IMAGE_SCHEMAS}
