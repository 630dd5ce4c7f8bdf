"""A Gemini API on 127.0.0.1 that speaks the documented generateContent wire format, for adapter tests.

Written from Google's Gemini API reference and image-generation guide: POST
/v1beta/models/<model>:generateContent, the key in x-goog-api-key (or ?key=), errors as
{"error": {"code", "message", "status"}} (a missing key is 403 PERMISSION_DENIED, a wrong one 400
INVALID_ARGUMENT with reason API_KEY_INVALID), images inline as base64 in candidates[0].content.parts.
Output sizes follow Google's 1K table per aspect ratio, doubled for 2K and quadrupled for 4K.
Stricter than Google in one place, on purpose: imageSize is refused for models without it.

Text models (the photo analyzer's path) answer in words, or, with generationConfig.responseMimeType
"application/json" and a responseSchema (Google's OpenAPI subset: type, properties, required, items,
enum, maxItems, description, propertyOrdering), with one text part holding JSON that fits the schema.
A schema with a type Google does not know is refused with 400 INVALID_ARGUMENT, as Google does.

Tests script the next answers with `answer_next(...)`: refusals, errors, and a held answer that
waits for a threading.Event the test sets. Without a script every request gets an image.
`fault_mode(faults, slow=…)` (tests/upstreams/faults.py) makes calls fail at random: 500 INTERNAL or
503 UNAVAILABLE, an answer `slow` seconds late, or JSON cut off half way.
"""
import base64
import io
import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

from PIL import Image, ImageDraw

from tests.upstreams import LocalServer
from tests.upstreams.faults import MALFORMED, SERVER_ERROR, TIMEOUT, Faults, malformed

API_KEY = "test-gemini-key-0123456789"
IMAGE_MODELS = {"gemini-2.5-flash-image", "gemini-3-pro-image-preview"}
TEXT_MODELS = {"gemini-2.5-flash", "gemini-2.5-pro"}
MODELS = IMAGE_MODELS | TEXT_MODELS
SCHEMA_TYPES = {"STRING", "NUMBER", "INTEGER", "BOOLEAN", "ARRAY", "OBJECT"}
RESPONSE_MIME_TYPES = {"text/plain", "application/json", "text/x.enum"}
SIZED_MODELS = {"gemini-3-pro-image-preview"}
SIZES_1K = {
    "1:1": (1024, 1024), "2:3": (832, 1248), "3:2": (1248, 832), "3:4": (864, 1184), "4:3": (1184, 864),
    "4:5": (896, 1152), "5:4": (1152, 896), "9:16": (768, 1344), "16:9": (1344, 768), "21:9": (1536, 672),
}
SCALES = {"1K": 1, "2K": 2, "4K": 4}
FINAL_COLOUR, THOUGHT_COLOUR = (46, 139, 87), (200, 30, 30)
THOUGHT_SIZE = (512, 512)
THOUGHT_TEXT = "Planning the composition: sofa on the left wall, rug under the window."


@dataclass
class Reply:
    status: int
    body: dict
    headers: dict = field(default_factory=dict)
    cut_off: bool = False  # fault mode: the JSON is sent half


@dataclass
class Recorded:
    """One request as the server saw it."""

    path: str
    query: dict
    headers: dict
    body: dict | None


def error_reply(code: int, status: str, message: str, details: list | None = None, headers: dict | None = None):
    """An error in Google's envelope: {"error": {"code", "message", "status", "details"?}}."""
    body = {"error": {"code": code, "message": message, "status": status}}
    if details:
        body["error"]["details"] = details
    return Reply(code, body, headers or {})


def error(code: int, status: str, message: str, details: list | None = None, headers: dict | None = None):
    """A scripted error answer."""
    return lambda upstream, model, request: error_reply(code, status, message, details, headers)


def rate_limited(retry_after: int = 7, header: bool = True):
    """429 RESOURCE_EXHAUSTED with RetryInfo in the details and, optionally, a Retry-After header."""
    details = [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": f"{retry_after}s"}]
    headers = {"Retry-After": str(retry_after)} if header else {}
    return error(429, "RESOURCE_EXHAUSTED", "Resource has been exhausted (e.g. check quota).", details, headers)


def server_error(code: int = 500):
    status, message = {
        500: ("INTERNAL", "An internal error has occurred. Please retry or report in "
                          "https://developers.generativeai.google/guide/troubleshooting"),
        503: ("UNAVAILABLE", "The model is overloaded. Please try again later."),
        504: ("DEADLINE_EXCEEDED", "Deadline expired before operation could complete."),
    }[code]
    return error(code, status, message)


def invalid_argument(message: str = "Request contains an invalid argument."):
    return error(400, "INVALID_ARGUMENT", message)


def blocked(reason: str = "SAFETY"):
    """The prompt itself was blocked: promptFeedback.blockReason and no candidates, still HTTP 200."""
    body = {"promptFeedback": {"blockReason": reason}, "usageMetadata": {"promptTokenCount": 12}}
    return lambda upstream, model, request: Reply(200, {**body, "modelVersion": model})


def finished(reason: str, text: str | None = None):
    """A candidate that stopped without a final image (IMAGE_SAFETY, NO_IMAGE...), after any thought drafts."""

    def answer(upstream, model, request):
        parts = upstream.thought_parts() + ([{"text": text}] if text else [])
        return Reply(200, _candidate(model, parts, reason))

    return answer


def text_only(text: str):
    """The model chose to answer in words only, finishing normally."""
    return finished("STOP", text)


def held(release: threading.Event):
    """An image answer that is only sent once the test sets `release` (upstream.entered tells it we are waiting)."""

    def answer(upstream, model, request):
        upstream.entered.set()
        release.wait(60)  # a safety net for a test that forgets; tests always set it
        return upstream.image_reply(model, request)

    return answer


class GeminiUpstream(LocalServer):
    """The server and the test's handle on it."""

    def __init__(self, api_key: str = API_KEY):
        self.api_key = api_key
        self.requests: list[Recorded] = []
        self.thoughts = False  # precede the final image with a thought image (as Gemini 3 Pro does)
        self.mime = "image/png"
        self.entered = threading.Event()
        self._script = deque()
        self.faults: Faults | None = None
        self.slow = 0.0
        super().__init__(_handler_for(self))

    def fault_mode(self, faults: Faults, slow: float) -> None:
        """Calls fail as faults draws; a timeout answers after `slow` seconds."""
        self.faults, self.slow = faults, slow

    def answer_next(self, *answers) -> None:
        """Answer the next requests with these, in order; then with images again."""
        self._script.extend(answers)

    def respond(self, path: str, headers: dict, raw: bytes) -> Reply:
        url = urlsplit(path)
        query = parse_qs(url.query)
        body = _json(raw)
        self.requests.append(Recorded(url.path, query, headers, body))
        key = headers.get("x-goog-api-key") or (query.get("key") or [None])[0]
        refused = _auth_error(key, self.api_key)
        if refused:
            return refused
        fault = self.faults.for_call("gemini", url.path) if self.faults else None
        if fault == SERVER_ERROR:
            return server_error(self.faults.pick((500, 503)))(self, None, body)
        if fault == TIMEOUT:
            time.sleep(self.slow)  # the client has given up by now
        reply = self._answer(url.path, body)
        reply.cut_off = fault == MALFORMED
        return reply

    def _answer(self, path: str, body: dict | None) -> Reply:
        model = _model_of(path)
        if model not in MODELS:
            return _not_found(model)
        invalid = _invalid(model, body)
        if invalid:
            return invalid
        answer = self._script.popleft() if self._script else None
        if answer:
            return answer(self, model, body)
        return self.text_reply(model, body) if model in TEXT_MODELS else self.image_reply(model, body)

    def text_reply(self, model: str, request: dict) -> Reply:
        """A text model's answer: JSON fitting the responseSchema when one is asked for, else a sentence."""
        config = _get(request, "generationConfig") or {}
        schema = _get(config, "responseSchema")
        if _get(config, "responseMimeType") == "application/json" and schema:
            text = json.dumps(sample_for(schema))
        else:
            text = "A bright room with pale walls."
        return Reply(200, _candidate(model, [{"text": text}], "STOP"))

    def thought_parts(self) -> list[dict]:
        """What a thinking model sends before its answer: its reasoning and a draft image, marked thought."""
        if not self.thoughts:
            return []
        draft = _inline(THOUGHT_SIZE, THOUGHT_COLOUR, "image/jpeg")
        return [{"text": THOUGHT_TEXT, "thought": True}, {"inlineData": draft, "thought": True}]

    def image_reply(self, model: str, request: dict) -> Reply:
        """The final image (after a thought image when asked), shaped by imageConfig or the first input photo."""
        width, height = output_size(request)
        parts = [*self.thought_parts(), {"text": "Here is the image."}]
        final = {"inlineData": _inline((width, height), FINAL_COLOUR, self.mime)}
        if model in SIZED_MODELS:
            final["thoughtSignature"] = base64.b64encode(b"signature").decode()
        parts.append(final)
        return Reply(200, _candidate(model, parts, "STOP"))


def output_size(request: dict) -> tuple[int, int]:
    config = _get(_get(request, "generationConfig") or {}, "imageConfig")
    ratio = _get(config or {}, "aspectRatio") or _input_ratio(request) or "1:1"
    width, height = SIZES_1K[ratio]
    scale = SCALES[_get(config or {}, "imageSize") or "1K"]
    return width * scale, height * scale


def _input_ratio(request: dict) -> str | None:
    """With no aspectRatio Gemini follows the first input photo's shape (else makes a square)."""
    for part in request["contents"][0].get("parts", []):
        inline = _get(part, "inlineData")
        if inline:
            with Image.open(io.BytesIO(base64.b64decode(_get(inline, "data")))) as photo:
                shape = photo.width / photo.height
            return min(SIZES_1K, key=lambda r: abs(SIZES_1K[r][0] / SIZES_1K[r][1] - shape))
    return None


def json_answer(answer: dict | str):
    """A scripted text-model answer whose one text part is this JSON (or this raw text)."""
    text = answer if isinstance(answer, str) else json.dumps(answer)
    return lambda upstream, model, request: Reply(200, _candidate(model, [{"text": text}], "STOP"))


def sample_for(schema: dict, name: str = "value"):
    """A value that fits a response schema, as a model following it would write."""
    kind = str(schema.get("type", "")).upper()
    if schema.get("enum"):
        return schema["enum"][0]
    if kind == "OBJECT":
        return {key: sample_for(sub, key) for key, sub in (schema.get("properties") or {}).items()}
    if kind == "ARRAY":
        count = min(3, schema.get("maxItems") or 3)
        return [sample_for(schema.get("items") or {"type": "STRING"}, f"{name} {i + 1}") for i in range(count)]
    if kind in ("NUMBER", "INTEGER"):
        return 1
    if kind == "BOOLEAN":
        return True
    return f"{name} of a bright room with pale walls"


def _schema_problem(schema, path: str = "responseSchema") -> str | None:
    if not isinstance(schema, dict):
        return f"Invalid value at '{path}': must be an object."
    kind = str(schema.get("type", "")).upper()
    if kind not in SCHEMA_TYPES:
        return f"Invalid value at '{path}.type' ({schema.get('type')!r})"
    for key, sub in (schema.get("properties") or {}).items():
        problem = _schema_problem(sub, f"{path}.properties[{key}]")
        if problem:
            return problem
    if kind == "ARRAY" and "items" in schema:
        return _schema_problem(schema["items"], f"{path}.items")
    return None


def _invalid(model: str, body: dict | None) -> Reply | None:
    if body is None:
        return error_reply(400, "INVALID_ARGUMENT", "Invalid JSON payload received.")
    if not body.get("contents"):
        return error_reply(400, "INVALID_ARGUMENT", "* GenerateContentRequest.contents: contents is not specified")
    generation_config = _get(body, "generationConfig") or {}
    mime = _get(generation_config, "responseMimeType")
    if mime is not None and mime not in RESPONSE_MIME_TYPES:
        return error_reply(400, "INVALID_ARGUMENT", f"* GenerateContentRequest.generation_config.response_mime_type: "
                                                    f"allowed mimetypes are {', '.join(sorted(RESPONSE_MIME_TYPES))}.")
    if _get(generation_config, "responseSchema") is not None:
        problem = _schema_problem(_get(generation_config, "responseSchema"))
        if problem:
            return error_reply(400, "INVALID_ARGUMENT", problem)
    config = _get(generation_config, "imageConfig") or {}
    problem = None
    if _get(config, "aspectRatio") not in (None, *SIZES_1K):
        problem = f"Unsupported aspect ratio: {_get(config, 'aspectRatio')}"
    elif _get(config, "imageSize") is not None and model not in SIZED_MODELS:
        problem = f"imageSize is not supported by {model}."
    elif _get(config, "imageSize") not in (None, *SCALES):
        problem = f"Unsupported image size: {_get(config, 'imageSize')}. Use 1K, 2K or 4K."
    return error_reply(400, "INVALID_ARGUMENT", problem) if problem else None


def _auth_error(key: str | None, expected: str) -> Reply | None:
    if not key:
        return error_reply(
            403, "PERMISSION_DENIED",
            "Method doesn't allow unregistered callers (callers without established identity). "
            "Please use API Key or other form of API consumer identity to call this API.",
        )
    if key != expected:
        details = [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID",
                    "domain": "googleapis.com", "metadata": {"service": "generativelanguage.googleapis.com"}}]
        return error_reply(400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.", details)
    return None


def _not_found(model: str | None) -> Reply:
    return error_reply(
        404, "NOT_FOUND",
        f"models/{model} is not found for API version v1beta, or is not supported for generateContent.",
    )


def _candidate(model: str, parts: list, reason: str) -> dict:
    content = {"parts": parts, "role": "model"} if parts else {}
    return {
        "candidates": [{"content": content, "finishReason": reason, "index": 0}],
        "usageMetadata": {"promptTokenCount": 12, "candidatesTokenCount": 1290, "totalTokenCount": 1302},
        "modelVersion": model,
        "responseId": "test-response",
    }


def _inline(size: tuple[int, int], colour: tuple[int, int, int], mime: str) -> dict:
    image = Image.new("RGB", size, colour)
    ImageDraw.Draw(image).rectangle([size[0] // 4, size[1] // 4, size[0] // 2, size[1] // 2], fill=(240, 240, 240))
    buffer = io.BytesIO()
    image.save(buffer, "PNG" if mime == "image/png" else "JPEG")
    return {"mimeType": mime, "data": base64.b64encode(buffer.getvalue()).decode("ascii")}


def _model_of(path: str) -> str | None:
    prefix, suffix = "/v1beta/models/", ":generateContent"
    if path.startswith(prefix) and path.endswith(suffix):
        return path[len(prefix):-len(suffix)]
    return None


def _get(mapping: dict, camel: str):
    """Proto JSON takes lowerCamelCase or the original snake_case field names."""
    snake = "".join(f"_{c.lower()}" if c.isupper() else c for c in camel)
    return mapping.get(camel, mapping.get(snake))


def _json(raw: bytes) -> dict | None:
    try:
        body = json.loads(raw)
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _handler_for(upstream: GeminiUpstream):
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {name.lower(): value for name, value in self.headers.items()}
            reply = upstream.respond(self.path, headers, raw)
            payload = json.dumps(reply.body).encode()
            payload = malformed(payload) if reply.cut_off else payload
            try:
                self.send_response(reply.status)
                self.send_header("Content-Type", "application/json; charset=UTF-8")
                self.send_header("Content-Length", str(len(payload)))
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting (a read-timeout test)

        def log_message(self, *args):
            pass

    return Handler
