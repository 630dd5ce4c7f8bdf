"""The document's view of the analyze API (/v1/sessions) and of the inbound provider callbacks."""
from app.apidocs.operations import EVENT_STREAM, JSON, ApiOperation, QueryParam
from app.apidocs.schemas import ref

MULTIPART = "multipart/form-data"
MAX_PHOTOS_PER_SESSION = 100  # app.analysis.service.MAX_PHOTOS_PER_SESSION
STRING_OR_NULL = {"type": ["string", "null"]}
CONTEXT = {
    "type": ["object", "null"],
    "description": "The listing: address, city, bedrooms (0-50), styleKeywords (list or comma-separated), brandVoice.",
    "properties": {
        "address": {"type": "string"}, "city": {"type": "string"},
        "bedrooms": {"type": ["integer", "null"], "minimum": 0, "maximum": 50},
        "styleKeywords": {"type": ["array", "string"], "items": {"type": "string"}}, "brandVoice": {"type": "string"},
    },
}
PHOTO_REFERENCE = {
    "type": "object",
    "description": "A photo of the session, as its upload answered.",
    "required": ["id", "uploadPath"],
    "properties": {"id": {"type": "string"}, "uploadPath": {"type": "string"}, "originalFilename": STRING_OR_NULL},
}

SESSION_SCHEMAS = {
    "AnalysisSessionCreate": {
        "type": "object",
        "description": "JSON {context}, or a multipart form with the context's fields and photos in `files`.",
        "properties": {"context": CONTEXT},
    },
    "AnalysisUploadForm": {
        "type": "object",
        "required": ["files"],
        "properties": {"files": {"type": "array", "items": {"type": "string", "contentMediaType": "image/jpeg"}},
                       "roomType": {"type": "string"}},
    },
    "AnalysisAddImages": {
        "type": "object",
        "required": ["imageIds"],
        "properties": {"imageIds": {"type": "array", "minItems": 1, "maxItems": MAX_PHOTOS_PER_SESSION,
                                    "items": {"type": "string"}}},
    },
    "AnalysisRun": {
        "type": "object",
        "description": "The session (as in the URL), the photos to describe as their uploads answered them, "
                       "and the listing's context.",
        "required": ["sessionId", "images"],
        "properties": {"sessionId": {"type": "string"},
                       "images": {"type": "array", "minItems": 1, "items": PHOTO_REFERENCE}, "context": CONTEXT},
    },
    "AnalysisRunOne": {
        "type": "object",
        "required": ["sessionId", "image"],
        "properties": {"sessionId": {"type": "string"}, "image": PHOTO_REFERENCE, "context": CONTEXT},
    },
    "AnalysisPhoto": {
        "type": "object",
        "required": ["id"],
        "properties": {
            **PHOTO_REFERENCE["properties"], "status": {"type": "string"}, "imageId": STRING_OR_NULL,
            "metadata": {"type": "object"}, "error": {"type": "string"},
        },
    },
    "AnalysisSession": {
        "type": "object",
        "required": ["sessionId", "run", "progress", "images"],
        "properties": {
            "sessionId": {"type": "string"}, "context": {"type": ["object", "null"]},
            "createdAt": STRING_OR_NULL, "expiresAt": STRING_OR_NULL, "run": {"type": "integer"},
            "progress": {"type": "object", "properties": {"done": {"type": "integer"}, "total": {"type": "integer"}}},
            "images": {"type": "array", "items": ref("AnalysisPhoto")},
        },
    },
    "AnalysisUploads": {
        "type": "object",
        "required": ["sessionId", "images"],
        "properties": {"sessionId": {"type": "string"}, "images": {"type": "array", "items": PHOTO_REFERENCE}},
    },
    "AnalysisShortOfCredits": {
        "type": "object",
        "required": ["success", "error", "needed", "available"],
        "description": "The v1 error, plus the credits the request needs and what the workspace has.",
        "properties": {"success": {"const": False}, "error": {"type": "object", "required": ["message", "code"]},
                       "needed": {"type": "integer"}, "available": {"type": "integer"}},
    },
    "NanoBananaCallback": {
        "type": "object",
        "required": ["data"],
        "properties": {"code": {"type": "integer"}, "msg": {"type": "string"},
                       "data": {"type": "object", "required": ["taskId"],
                                "properties": {"taskId": {"type": "string", "minLength": 1, "maxLength": 255},
                                               "info": {"type": ["object", "null"]}}}},
    },
    "CallbackReceived": {
        "type": "object", "required": ["code", "msg"],
        "properties": {"code": {"const": 200}, "msg": {"type": "string"}},
    },
}

SHORT_OF_CREDITS = (402, "AnalysisShortOfCredits", "The workspace's credits do not cover the photos.")
LAST_EVENT_ID = QueryParam("lastEventId", {"type": "string"}, "Resume after this event (or send Last-Event-ID).")

SESSION_LINKS = tuple(
    (f"analysis_api.{name}", "session_id", "/sessionId")
    for name in ("detail", "upload", "add_images", "analyze", "analyze_single", "follow")
)

SESSION_OPERATIONS = {
    "analysis_api.create_session": ApiOperation(
        request="AnalysisSessionCreate", request_media=(JSON, MULTIPART), body_optional=True,
        response="AnalysisSession", status=201, links=SESSION_LINKS,
    ),
    "analysis_api.upload": ApiOperation(
        request="AnalysisUploadForm", request_media=(MULTIPART,), response="AnalysisUploads", status=201,
    ),
    "analysis_api.add_images": ApiOperation(request="AnalysisAddImages", response="AnalysisUploads", status=201),
    "analysis_api.detail": ApiOperation("Read a session with its photos and results", response="AnalysisSession"),
    "analysis_api.analyze": ApiOperation(
        request="AnalysisRun", response_media=(EVENT_STREAM,), errors=(409,), answers=(SHORT_OF_CREDITS,),
    ),
    "analysis_api.follow": ApiOperation(response_media=(EVENT_STREAM,), query=(LAST_EVENT_ID,), errors=(409,)),
    "analysis_api.analyze_single": ApiOperation(
        request="AnalysisRunOne", response="AnalysisPhoto", errors=(409, 422, 504), answers=(SHORT_OF_CREDITS,),
    ),
    "upstreams.nanobanana_callback": ApiOperation(
        request="NanoBananaCallback", response="CallbackReceived", auth="none",
    ),
}
