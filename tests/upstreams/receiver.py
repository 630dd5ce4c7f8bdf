"""A webhook receiver on 127.0.0.1 that checks every delivery's signature with the `standardwebhooks` package.

What the test controls, so nothing depends on timing:
- receiver.fail_next(n, status) answers the next n deliveries with that status (default 500);
- receiver.redirect_to(url) answers every delivery with a 307 to url until told otherwise;
- receiver.hold() makes deliveries wait for receiver.release() before they are answered (a slow receiver).
Each delivery is recorded with its headers, raw body, what was answered and whether the signature verified.
"""
import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from tests.upstreams import LocalServer

HOLD_LIMIT = 60  # seconds a held request waits at most, so a forgotten release cannot hang the suite


@dataclass
class Received:
    headers: dict
    body: str
    answered: int
    verified: bool

    @property
    def webhook_id(self) -> str:
        return self.headers.get("webhook-id")

    @property
    def payload(self) -> dict:
        return json.loads(self.body)

    def verifies_with(self, secret: str) -> bool:
        """Whether a Standard Webhooks library accepts this delivery under secret."""
        try:
            Webhook(secret).verify(self.body, self.headers)
        except WebhookVerificationError:
            return False
        return True


class WebhookReceiver(LocalServer):
    """The server and the test's handle on it."""

    def __init__(self, secret: str | None = None):
        self.secret = secret
        self.received: list[Received] = []
        self._lock = threading.Lock()
        self._failures: list[int] = []
        self._redirect: str | None = None
        self._released = threading.Event()
        self._released.set()
        self.waiting = threading.Event()  # set while a delivery is held
        super().__init__(self._handler())

    @property
    def url(self) -> str:
        return f"{self.base_url}/hooks/stagecraft"

    def fail_next(self, times: int, status: int = 500) -> None:
        with self._lock:
            self._failures.extend([status] * times)

    def redirect_to(self, location: str | None) -> None:
        self._redirect = location

    def hold(self) -> None:
        self._released.clear()

    def release(self) -> None:
        self._released.set()

    def ids(self) -> list[str]:
        return [delivery.webhook_id for delivery in self.received]

    def _answer_for(self) -> tuple[int, dict]:
        with self._lock:
            if self._failures:
                return self._failures.pop(0), {}
        if self._redirect:
            return 307, {"Location": self._redirect}
        return 200, {}

    def _handler(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                headers = {name.lower(): value for name, value in self.headers.items()}
                if not receiver._released.is_set():
                    receiver.waiting.set()
                    receiver._released.wait(HOLD_LIMIT)
                status, extra = receiver._answer_for()
                verified = receiver.secret is not None and Received(headers, body, status, False).verifies_with(
                    receiver.secret
                )
                receiver.received.append(Received(headers, body, status, verified))
                answer = json.dumps({"received": status < 300}).encode()
                try:
                    self.send_response(status)
                    for name, value in extra.items():
                        self.send_header(name, value)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(answer)))
                    self.end_headers()
                    self.wfile.write(answer)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the sender gave up waiting (a timeout test)

        return Handler
