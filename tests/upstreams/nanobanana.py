"""A nanobananaapi.ai stand-in that speaks its documented wire format over real HTTP on 127.0.0.1.

Written from docs.nanobananaapi.ai (nanobanana-api/generate-or-edit-image, get-task-details,
generate-or-edit-image-callbacks): every answer is {code, msg, data} with HTTP 200, and the body's
code says what happened (the docs document no other HTTP status, so a bad key is body code 401 too).

What the test controls, so nothing depends on timing:
- a task answers successFlag 0 until the test settles it (task.succeed() / task.fail(flag, message)),
  or at once for tasks created after upstream.finish_new_tasks(...);
- upstream.answer_next(code) makes the next API call answer that body code (HTTP 200 unless told);
- task.expire() makes its result URLs answer 404, as the provider's temporary files do;
- upstream.send_callback(task_id, url) POSTs the documented callback, as often and as late as the test likes.
The imageUrls of a generate request are downloaded at once, as the real service must; one that cannot
be downloaded makes the task fail with successFlag 2 (our reading: the task could not be created).
`fault_mode(faults, slow=…)` (tests/upstreams/faults.py) makes API calls fail at random (HTTP 500/502/503
with body code alike, an answer `slow` seconds late, JSON cut off half way) and makes the stand-in send
each settled task's callback itself, some twice and some before the generate call has answered.
"""
import io
import json
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

import requests
from PIL import Image

from tests.upstreams import LocalServer
from tests.upstreams.faults import (
    DUPLICATE_CALLBACK, EARLY_CALLBACK, MALFORMED, SERVER_ERROR, TIMEOUT, Faults, malformed,
)

API_KEY = "nb-test-key-7f3a9c"
TYPES = ("TEXTTOIAMGE", "IMAGETOIAMGE")
IMAGE_SIZES = ("1:1", "9:16", "16:9", "3:4", "4:3", "3:2", "2:3", "5:4", "4:5", "21:9")
RESULT_COLOR = (210, 140, 60)


@dataclass
class Recorded:
    method: str
    path: str
    query: dict
    headers: dict
    body: dict | None
    fault: str | None = None  # fault mode: what this call suffers


@dataclass
class Task:
    id: str
    body: dict
    fetched: list = field(default_factory=list)  # (url, HTTP status or the error) per imageUrl
    flag: int = 1  # what record-info reports once the task is settled
    error_message: str = ""
    settled: threading.Event = field(default_factory=threading.Event)
    expired: set = field(default_factory=set)  # "result" and/or "origin"

    def succeed(self) -> None:
        self.flag, self.error_message = 1, ""
        self.settled.set()

    def fail(self, flag: int = 3, message: str = "Image generation failed") -> None:
        """Settle with this successFlag (settling with 1 is a success)."""
        self.flag, self.error_message = flag, message
        self.settled.set()

    def expire(self, *which: str) -> None:
        """Make the result URLs (both kinds unless named) answer 404 from now on."""
        self.expired.update(which or ("result", "origin"))

    @property
    def success_flag(self) -> int:
        return self.flag if self.settled.is_set() else 0


class NanobananaUpstream(LocalServer):
    """The server and the test's handle on it: recorded requests, tasks, forced answers, callbacks."""

    def __init__(self, api_key: str = API_KEY):
        self.api_key, self.credits = api_key, 100
        self.requests: list[Recorded] = []
        self.answers: list[tuple[str, dict]] = []  # (path, body) of every API answer, in order
        self.tasks: dict[str, Task] = {}
        self._forced: deque = deque()
        self._finish_new: tuple[int, str] | None = None
        self._lock = threading.Lock()
        self.faults: Faults | None = None
        self.slow = 0.0
        super().__init__(_handler_for(self))

    def fault_mode(self, faults: Faults, slow: float) -> None:
        """API calls fail as faults draws (a timeout answers after `slow` seconds); settled tasks call back."""
        self.faults, self.slow = faults, slow

    # The test's controls.
    def answer_next(self, code: int, msg: str = "forced by the test", http_status: int = 200) -> None:
        self._forced.append((code, msg, http_status))

    def finish_new_tasks(self, flag: int = 1, error_message: str = "") -> None:
        """Tasks created from now on are settled at once with this successFlag."""
        self._finish_new = (flag, error_message)

    def only_task(self) -> Task:
        assert len(self.tasks) == 1, f"expected one task, found {len(self.tasks)}"
        return next(iter(self.tasks.values()))

    def calls(self, path: str) -> list[Recorded]:
        return [r for r in self.requests if r.path == path]

    def result_url(self, task: Task, kind: str = "result") -> str:
        return f"{self.base_url}/files/{kind}/{task.id}.jpg"

    def send_callback(self, task_id: str, url: str | None = None) -> int:
        """POST the documented completion callback (to callBackUrl unless told); the receiver's HTTP status."""
        task = self.tasks[task_id]
        if task.success_flag == 1:
            body = {"code": 200, "msg": "Image generated successfully.",
                    "data": {"taskId": task.id, "info": {"resultImageUrl": self.result_url(task)}}}
        else:
            body = {"code": 501, "msg": task.error_message or "Image generation task failed",
                    "data": {"taskId": task.id, "info": {}}}
        return requests.post(url or task.body["callBackUrl"], json=body, timeout=15).status_code

    def call_back_in_fault_mode(self, task: Task) -> None:
        """The callback a settled task sends: once on time, or also twice, or also before the generate answer."""
        fault = self.faults.for_callback("nanobanana", task.id)
        if fault == EARLY_CALLBACK:
            self._try_callback(task.id)  # the caller does not know this taskId yet

        def on_time():
            for _ in range(2 if fault == DUPLICATE_CALLBACK else 1):
                time.sleep(0.2)
                self._try_callback(task.id)

        threading.Thread(target=on_time, daemon=True).start()

    def _try_callback(self, task_id: str) -> None:
        try:
            self.send_callback(task_id)
        except requests.RequestException:
            pass  # the receiver is down; the caller polls record-info anyway

    # What the API answers.
    def answer(self, recorded: Recorded) -> tuple[int, dict]:
        if recorded.headers.get("authorization") != f"Bearer {self.api_key}":
            return 200, _envelope(401, "You do not have access permissions")
        if self._forced:
            code, msg, http_status = self._forced.popleft()
            return http_status, _envelope(code, msg)
        if self.faults and recorded.fault == SERVER_ERROR:
            status = self.faults.pick((500, 502, 503))
            return status, _envelope(status, "Internal Error")
        if self.faults and recorded.fault == TIMEOUT:
            time.sleep(self.slow)  # the client has given up; the work below still happens
        routes = {
            ("POST", "/api/v1/nanobanana/generate"): self._generate,
            ("GET", "/api/v1/nanobanana/record-info"): self._record_info,
            ("GET", "/api/v1/common/credit"): lambda _r: _envelope(200, "success", self.credits),
        }
        route = routes.get((recorded.method, recorded.path))
        return 200, route(recorded) if route else _envelope(404, "Not Found")

    def _generate(self, recorded: Recorded) -> dict:
        body = recorded.body if isinstance(recorded.body, dict) else {}
        problem = _generate_problem(body)
        if problem:
            return _envelope(422, problem)
        task = Task(id=uuid.uuid4().hex, body=body)
        for url in body.get("imageUrls") or ():
            task.fetched.append((url, _download(url)))
        if any(status != 200 for _url, status in task.fetched):
            task.fail(2, "Failed to download the input image")
        elif self._finish_new:
            task.fail(*self._finish_new)
        with self._lock:
            self.tasks[task.id] = task
        if self.faults and task.settled.is_set():
            self.call_back_in_fault_mode(task)
        return _envelope(200, "success", {"taskId": task.id})

    def _record_info(self, recorded: Recorded) -> dict:
        task = self.tasks.get((recorded.query.get("taskId") or [""])[0])
        if task is None:
            return _envelope(422, "recordInfo is null")  # undocumented; what a missing task most plausibly gets
        flag = task.success_flag
        response = {"originImageUrl": self.result_url(task, "origin"), "resultImageUrl": self.result_url(task)}
        return _envelope(200, "success", {
            "taskId": task.id, "paramJson": json.dumps(task.body), "completeTime": "", "createTime": "",
            "response": response if flag == 1 else None,
            "successFlag": flag, "errorCode": 0 if flag in (0, 1) else 501, "errorMessage": task.error_message,
        })

    def result_file(self, path: str) -> bytes | None:
        """The JPEG behind a result URL, or None when it does not exist or has expired."""
        parts = path.strip("/").split("/")
        if len(parts) != 3 or parts[0] != "files" or not parts[2].endswith(".jpg"):
            return None
        task = self.tasks.get(parts[2][: -len(".jpg")])
        if task is None or task.success_flag != 1 or parts[1] in task.expired:
            return None
        return result_jpeg(task.body.get("image_size") or "1:1")


def _generate_problem(body: dict) -> str | None:
    """Why the generate endpoint refuses a body (code 422), or None."""
    if not body.get("prompt"):
        return "prompt is required"
    if body.get("type") not in TYPES:
        return f"type must be one of {', '.join(TYPES)}"
    if not body.get("callBackUrl"):
        return "callBackUrl is required"
    if not 1 <= body.get("numImages", 1) <= 4:
        return "numImages must be between 1 and 4"
    if "image_size" in body and body["image_size"] not in IMAGE_SIZES:
        return f"image_size must be one of {', '.join(IMAGE_SIZES)}"
    if body["type"] == "IMAGETOIAMGE" and not body.get("imageUrls"):
        return "imageUrls is required for IMAGETOIAMGE"
    return None


def _download(url: str):
    try:
        return requests.get(url, timeout=10).status_code
    except requests.RequestException as error:
        return type(error).__name__


def _envelope(code: int, msg: str, data=None) -> dict:
    return {"code": code, "msg": msg, "data": data}


def result_jpeg(image_size: str) -> bytes:
    """A real JPEG in the asked shape (long side 128 px), filled with RESULT_COLOR."""
    w, h = (int(n) for n in image_size.split(":"))
    size = (128, max(16, round(128 * h / w))) if w >= h else (max(16, round(128 * w / h)), 128)
    buffer = io.BytesIO()
    Image.new("RGB", size, RESULT_COLOR).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def _handler_for(upstream: NanobananaUpstream):
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path.startswith("/files/"):
                return self._send_file(upstream.result_file(urlsplit(self.path).path))
            self._api(None)

        def do_POST(self):
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            try:
                body = json.loads(raw or b"null")
            except ValueError:
                body = None
            self._api(body)

        def _api(self, body):
            url = urlsplit(self.path)
            headers = {name.lower(): value for name, value in self.headers.items()}
            recorded = Recorded(self.command, url.path, parse_qs(url.query), headers, body)
            if upstream.faults and headers.get("authorization") == f"Bearer {upstream.api_key}":
                recorded.fault = upstream.faults.for_call("nanobanana", url.path)
            with upstream._lock:
                upstream.requests.append(recorded)
            status, answer = upstream.answer(recorded)
            with upstream._lock:
                upstream.answers.append((url.path, answer))
            payload = json.dumps(answer).encode()
            self._send(status, "application/json", malformed(payload) if recorded.fault == MALFORMED else payload)

        def _send_file(self, data: bytes | None):
            if data is None:
                return self._send(404, "text/plain", b"Not Found")
            self._send(200, "image/jpeg", data)

        def _send(self, status: int, content_type: str, data: bytes):
            try:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client stopped waiting (a timeout in fault mode)

        def log_message(self, *args):
            pass

    return Handler
