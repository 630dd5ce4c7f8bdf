"""A fal.ai queue on 127.0.0.1, written from fal's Queue API and errors documentation, for adapter tests.

What it answers (fal.ai/docs/inference-api/queue/…, docs.fal.ai/errors):
- POST /<owner>/<app>[/<path>] with the model's JSON input → 200 {request_id, response_url, status_url,
  cancel_url}; those URLs sit on owner/app only, so the server refuses them with the subpath added.
- GET …/requests/<id>/status[?logs=1] → 202 IN_QUEUE (queue_position), 202 IN_PROGRESS, 200 COMPLETED
  (metrics.inference_time); logs only when asked.
- GET …/requests/<id> → the model's answer: 400 while not done, 404 unknown id, 422 {"detail": [{loc, msg,
  type, url}]} with X-Fal-Retryable, or 200 {images: [{url, content_type, file_name, width, height}],
  description}. Images are real files made with Pillow, served from /files/ here until the test expires them.
- PUT …/requests/<id>/cancel → 202 CANCELLATION_REQUESTED, 400 ALREADY_COMPLETED.
Every queue call needs `Authorization: Key <key>` (401 otherwise); file downloads, like fal's CDN, do not.

Each status poll moves a request one step on, so nothing here depends on time. A test scripts the next
submission with `script(...)` (queue positions, a `hold` Event that keeps it queued until set, a 422
error type for its result) and the answers to the next calls with `fail_next(...)`. `fault_mode(faults)`
(tests/upstreams/faults.py) makes queue calls fail at random: 500/502/503 {"detail"}, late answers, cut-off JSON.
"""
import base64
import io
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

from PIL import Image

from tests.upstreams import LocalServer
from tests.upstreams.faults import MALFORMED, SERVER_ERROR, TIMEOUT, Faults, malformed

EDIT_MODEL = "fal-ai/nano-banana-pro/edit"
TEXT_MODEL = "fal-ai/nano-banana-pro"
ASPECT_RATIOS = ("auto", "21:9", "16:9", "3:2", "4:3", "5:4", "1:1", "4:5", "3:4", "2:3", "9:16")
LONG_SIDES = {"1K": 1024, "2K": 2048, "4K": 4096}
FORMATS = {"jpeg": ("JPEG", "image/jpeg"), "png": ("PNG", "image/png"), "webp": ("WEBP", "image/webp")}
MESSAGES = {
    "content_policy_violation": "The content was flagged by a content checker.",
    "image_load_error": "Failed to load the image. Please ensure the image file is not corrupted.",
    "file_download_error": "Failed to download the file. Please check if the URL is accessible.",
}


@dataclass
class Script:
    """How one submitted request behaves."""

    queue_positions: tuple[int, ...] = (1, 0)  # one IN_QUEUE answer per status poll, in order
    progress_polls: int = 1  # IN_PROGRESS answers before COMPLETED
    hold: threading.Event | None = None  # stays at its first queue position until the test sets it
    error: str | None = None  # the result is a 422 with this error type
    retryable: bool = False  # the X-Fal-Retryable header sent with that error


@dataclass
class QueuedRequest:
    id: str
    model: str
    input: dict
    script: Script
    steps: list = field(default_factory=list)
    polls: int = 0
    canceled: bool = False
    result: tuple[int, dict, dict] | None = None  # (status, headers, body), set on completion

    @property
    def state(self) -> tuple[str, int | None]:
        return self.steps[min(self.polls, len(self.steps) - 1)]


class FalQueue(LocalServer):
    """The server and everything it saw; use as a context manager (or start() and stop())."""

    def __init__(self, key: str = "test-fal-key"):
        self.key = key
        self.submissions: list[dict] = []  # {"path", "headers", "body"} as received
        self.status_polls: list[str] = []  # full paths, query included
        self.cancels: list[str] = []  # request ids
        self.downloads: list[tuple[str, int]] = []  # (file path, status answered)
        self.requests: dict[str, QueuedRequest] = {}
        self.files: dict[str, tuple[str, bytes]] = {}  # name → (content type, bytes)
        self._scripts: list[Script] = []
        self._failures: dict[str, list] = {"submit": [], "status": []}
        self.lock = threading.Lock()
        self.faults: Faults | None = None
        self.slow = 0.0
        super().__init__(type("Handler", (FalHandler,), {"queue": self}))

    def fault_mode(self, faults: Faults, slow: float) -> None:
        """Queue calls fail as faults draws; a timeout answers after `slow` seconds."""
        self.faults, self.slow = faults, slow

    @property
    def url(self) -> str:
        return self.base_url

    def script(self, **behaviour) -> Script:
        """How the next submission behaves (scripts are used in the order they were added)."""
        script = Script(**behaviour)
        self._scripts.append(script)
        return script

    def fail_next(self, endpoint: str, status: int, headers: dict | None = None, body: dict | None = None) -> None:
        """Answer the next call to "submit" or "status" with this status instead of the real answer."""
        self._failures[endpoint].append((status, headers or {}, body or {"detail": "Internal Server Error"}))

    def expire_files(self) -> None:
        """Result URLs stop working, as fal's do after a while."""
        with self.lock:
            self.files.clear()

    # Used by the handler, under the lock.
    def take_failure(self, endpoint: str):
        return self._failures[endpoint].pop(0) if self._failures[endpoint] else None

    def enqueue(self, model: str, body: dict) -> QueuedRequest:
        script = self._scripts.pop(0) if self._scripts else Script()
        steps = [("IN_QUEUE", position) for position in script.queue_positions or (0,)]
        steps += [("IN_PROGRESS", None)] * script.progress_polls + [("COMPLETED", None)]
        request = QueuedRequest(uuid.uuid4().hex, model, body, script, steps)
        self.requests[request.id] = request
        return request

    def advance(self, request: QueuedRequest) -> tuple[str, int | None]:
        """The state this poll reports, then one step on (unless held in the queue)."""
        state = request.state
        if request.script.hold is None or request.script.hold.is_set():
            request.polls += 1
        if state[0] == "COMPLETED" and request.result is None:
            request.result = self.complete(request)
        return state

    def complete(self, request: QueuedRequest) -> tuple[int, dict, dict]:
        if request.canceled:
            return 499, {}, {"detail": "Request was cancelled by the client", "error_type": "client_cancelled"}
        errors = check_input(request.model, request.input)
        if request.script.error:
            kind = request.script.error
            loc = ["body", "prompt"] if kind == "content_policy_violation" else ["body", "image_urls", 0]
            errors = [error_detail(loc, kind)]
        if errors:
            return 422, {"X-Fal-Retryable": str(request.script.retryable).lower()}, {"detail": errors}
        return 200, {}, {"images": self.make_images(request), "description": "Here is the edited photo."}

    def make_images(self, request: QueuedRequest) -> list[dict]:
        size = output_size(request.input)
        pil_format, content_type = FORMATS[request.input.get("output_format", "png")]
        images = []
        for index in range(request.input.get("num_images", 1)):
            name = f"{request.id}_{index}.{pil_format.lower()}"
            buffer = io.BytesIO()
            Image.linear_gradient("L").resize(size).convert("RGB").save(buffer, pil_format)
            self.files[name] = (content_type, buffer.getvalue())
            images.append({"url": f"{self.url}/files/{name}", "content_type": content_type,
                           "file_name": name, "width": size[0], "height": size[1]})
        return images

    def urls(self, request: QueuedRequest) -> dict:
        owner_app = "/".join(request.model.split("/")[:2])
        response_url = f"{self.url}/{owner_app}/requests/{request.id}"
        return {"request_id": request.id, "response_url": response_url,
                "status_url": f"{response_url}/status", "cancel_url": f"{response_url}/cancel"}


class FalHandler(BaseHTTPRequestHandler):
    queue: FalQueue
    protocol_version = "HTTP/1.1"
    cut_off = False  # fault mode: this answer's JSON is sent half

    def log_message(self, *_args) -> None:
        pass

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        if path.startswith("/files/"):
            return self.send_file(path[len("/files/"):])
        self.route("GET")

    def do_POST(self) -> None:
        self.route("POST")

    def do_PUT(self) -> None:
        self.route("PUT")

    def route(self, method: str) -> None:
        self.cut_off = False
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.headers.get("Authorization") != f"Key {self.queue.key}":
            return self.send_json(401, {"detail": "No user found for Key ID and Secret"})
        path = urlsplit(self.path).path.strip("/")
        fault = self.queue.faults.for_call("fal", path) if self.queue.faults else None
        if fault == SERVER_ERROR:
            status = self.queue.faults.pick((500, 502, 503))
            return self.send_json(status, {"detail": "Internal server error, please retry"})
        if fault == TIMEOUT:
            time.sleep(self.queue.slow)  # the client has given up; the work below still happens
        self.cut_off = fault == MALFORMED
        with self.queue.lock:
            if "/requests/" not in path and method == "POST":
                return self.submit(path, body)
            app, _, rest = path.partition("/requests/")
            request_id, _, action = rest.partition("/")
            request = self.queue.requests.get(request_id)
            if request is None or app != "/".join(request.model.split("/")[:2]):
                return self.send_json(404, {"detail": f"Request {request_id} not found"})
            if method == "GET" and action == "status":
                return self.status(request)
            if method == "GET" and action == "":
                return self.send_json(*self.result(request))
            if method == "PUT" and action == "cancel":
                return self.cancel(request)
        self.send_json(405, {"detail": "Method Not Allowed"})

    def submit(self, model: str, raw: bytes) -> None:
        try:
            body = json.loads(raw)
        except ValueError:
            return self.send_json(422, {"detail": [error_detail(["body"], "json_invalid")]})
        self.queue.submissions.append({"path": "/" + model, "headers": dict(self.headers), "body": body})
        failure = self.queue.take_failure("submit")
        if failure:
            return self.send_json(failure[0], failure[2], failure[1])
        if model not in (EDIT_MODEL, TEXT_MODEL):
            return self.send_json(404, {"detail": f"Application '{model}' not found"})
        request = self.queue.enqueue(model, body)
        self.send_json(200, {"status": "IN_QUEUE", **self.queue.urls(request), "queue_position": request.state[1]})

    def status(self, request: QueuedRequest) -> None:
        self.queue.status_polls.append(self.path)
        failure = self.queue.take_failure("status")
        if failure:
            return self.send_json(failure[0], failure[2], failure[1])
        state, position = self.queue.advance(request)
        body = {"status": state, "request_id": request.id, "response_url": self.queue.urls(request)["response_url"]}
        if state == "IN_QUEUE":
            body["queue_position"] = position
        if "logs" in parse_qs(urlsplit(self.path).query):
            body["logs"] = [] if state == "IN_QUEUE" else [{"message": "Generating", "level": "INFO", "source": "user",
                                                           "timestamp": "2026-01-01T00:00:00Z"}]
        if state == "COMPLETED":
            body["metrics"] = {"inference_time": 1.25}
        self.send_json(200 if state == "COMPLETED" else 202, body)

    def result(self, request: QueuedRequest) -> tuple[int, dict, dict]:
        if request.result is None:
            return 400, {"detail": "Request is still in progress"}, {}
        status, headers, body = request.result
        return status, body, headers

    def cancel(self, request: QueuedRequest) -> None:
        self.queue.cancels.append(request.id)
        if request.result is not None:
            return self.send_json(400, {"status": "ALREADY_COMPLETED"})
        request.canceled = True
        request.steps, request.polls = [("COMPLETED", None)], 0
        self.send_json(202, {"status": "CANCELLATION_REQUESTED"})

    def send_file(self, name: str) -> None:
        with self.queue.lock:
            found = self.queue.files.get(name)
            self.queue.downloads.append((name, 200 if found else 404))
        if found is None:
            return self.send_json(404, {"detail": "File not found"})
        self.send_bytes(200, found[1], found[0], {})

    def send_json(self, status: int, body: dict, headers: dict | None = None) -> None:
        payload = json.dumps(body).encode()
        self.send_bytes(status, malformed(payload) if self.cut_off else payload, "application/json", headers or {})

    def send_bytes(self, status: int, data: bytes, content_type: str, headers: dict) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client stopped waiting (a timeout in fault mode)


def check_input(model: str, body: dict) -> list[dict]:
    """The model's validation, as 422 details (fal's models validate their input with pydantic)."""
    errors = []
    if not isinstance(body.get("prompt"), str) or not body["prompt"]:
        errors.append(error_detail(["body", "prompt"], "missing", "Field required"))
    if model == EDIT_MODEL:
        errors += check_image_urls(body.get("image_urls"))
    if not isinstance(body.get("num_images", 1), int) or not 1 <= body.get("num_images", 1) <= 4:
        errors.append(error_detail(["body", "num_images"], "less_than_equal", "Input should be between 1 and 4"))
    for name, allowed in (("aspect_ratio", ASPECT_RATIOS), ("resolution", LONG_SIDES), ("output_format", FORMATS)):
        if name in body and body[name] not in allowed:
            errors.append(error_detail(["body", name], "literal_error", f"Input should be one of {', '.join(allowed)}"))
    return errors


def check_image_urls(urls) -> list[dict]:
    if not isinstance(urls, list) or not urls:
        return [error_detail(["body", "image_urls"], "missing", "Field required")]
    for index, url in enumerate(urls):
        if not isinstance(url, str) or not url.startswith(("http://", "https://", "data:")):
            return [error_detail(["body", "image_urls", index], "file_download_error")]
        if url.startswith("data:") and decode_data_uri(url) is None:
            return [error_detail(["body", "image_urls", index], "image_load_error")]
    return []


def error_detail(loc: list, kind: str, message: str | None = None) -> dict:
    return {"loc": loc, "msg": message or MESSAGES.get(kind, kind), "type": kind,
            "url": f"https://docs.fal.ai/errors#{kind}"}


def decode_data_uri(url: str) -> Image.Image | None:
    try:
        image = Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1], validate=True)))
        image.load()
        return image
    except Exception:  # anything undecodable is fal's image_load_error
        return None


def output_size(body: dict) -> tuple[int, int]:
    """The long side from the resolution, the shape from the ratio ("auto": the first photo's shape, else square)."""
    long_side = LONG_SIDES[body.get("resolution", "1K")]
    ratio = body.get("aspect_ratio", "auto")
    if ratio == "auto":
        first = decode_data_uri(body["image_urls"][0]) if body.get("image_urls") else None
        width, height = first.size if first else (1, 1)
    else:
        width, height = (int(part) for part in ratio.split(":"))
    if width >= height:
        return long_side, round(long_side * height / width)
    return round(long_side * width / height), long_side
