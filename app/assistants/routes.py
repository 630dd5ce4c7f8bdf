"""The MCP server: Streamable HTTP at /mcp, each request authenticated by a project's API key.

It is an ASGI app (the `mcp` package builds it on Starlette), so it runs in its own process under
uvicorn (`flask mcp-server`, started by `make run` beside gunicorn's gevent workers) rather than
inside the WSGI app. Each tool runs on a worker thread inside the Flask app's context and calls
the same services as the JSON APIs, so credits, limits and results are the same everywhere.
"""
import json
from collections.abc import Mapping
from functools import partial
from typing import Any
from urllib.parse import urlsplit

import anyio
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.transport_security import TransportSecuritySettings
from starlette.requests import Request
from starlette.responses import JSONResponse

from app.assistants import api
from app.errors import ApiError
from app.extensions import db

PATH = "/mcp"
INSTRUCTIONS = (
    "Stagecraft edits real-estate listing photos and generates images, paid from the workspace's credits. "
    "Start work with edit_image (a photo: enhance, sky, twilight, virtual staging…) or generate_image, tell "
    "the user it is running, then call get_task with the task_id until the status is succeeded or failed, "
    "and report the result URLs and the credits remaining. list_presets shows the edits on offer and their price."
)


def key_from_headers(headers: Mapping[str, str] | None) -> str | None:
    """The API key sent as X-API-Key or Authorization: Bearer/Key <key>."""
    headers = {name.lower(): value for name, value in (headers or {}).items()}
    if headers.get("x-api-key"):
        return headers["x-api-key"].strip()
    scheme, _, credentials = headers.get("authorization", "").partition(" ")
    if scheme.lower() in {"bearer", "key"} and credentials.strip():
        return credentials.strip()
    return None


def build_server(flask_app) -> MCPServer:
    """The MCP server with Stagecraft's tools, each run in flask_app's context."""
    server = MCPServer("stagecraft", title="Stagecraft", instructions=INSTRUCTIONS, version="1")

    def call(function, ctx: Context, **arguments):
        with flask_app.app_context():
            try:
                answer = function(key_from_headers(ctx.headers), **arguments)
                db.session.commit()  # the note of the key's use, for tools that only read
                return answer
            except (ApiError, api.ToolRefusal) as error:
                raise ToolError(getattr(error, "message", None) or str(error)) from None

    @server.tool()
    def generate_image(prompt: str, ctx: Context, aspect_ratio: str | None = None, num_images: int = 1) -> dict[str, Any]:
        """Start making new images from a text prompt (1-4 images; aspect_ratio such as "4:3" or "16:9").

        Returns at once with a task_id and the credits reserved; follow it with get_task.
        """
        return call(api.generate_image, ctx, prompt=prompt, aspect_ratio=aspect_ratio, num_images=num_images)

    @server.tool()
    def edit_image(image: str, ctx: Context, prompt: str | None = None, preset: str | None = None,
                   aspect_ratio: str | None = None) -> dict[str, Any]:
        """Start editing one listing photo: `image` is an image id or alias from Stagecraft, an https URL or a
        data: URI; say what to change in `prompt`, or pick a `preset` id from list_presets.

        Returns at once with a task_id and the credits reserved; follow it with get_task.
        """
        return call(api.edit_image, ctx, image=image, prompt=prompt, preset=preset, aspect_ratio=aspect_ratio)

    @server.tool()
    def get_task(task_id: str, ctx: Context, wait_seconds: float = 0) -> dict[str, Any]:
        """Where a task stands: queued, processing, succeeded (with result_urls) or failed (with the reason, refunded).

        wait_seconds (up to 60) waits for the task to finish before answering. Also reports credits_remaining.
        """
        return call(api.get_task, ctx, task_id=task_id, wait_seconds=wait_seconds)

    @server.tool()
    def get_credits(ctx: Context) -> dict[str, Any]:
        """The workspace's remaining credits (and whether the balance is running low)."""
        return call(api.get_credits, ctx)

    @server.tool()
    def list_presets(ctx: Context) -> dict[str, Any]:
        """The photo edits on offer (enhance, sky, twilight, virtual staging…): what each does and costs per photo."""
        return call(api.list_presets, ctx)

    @server.custom_route("/healthz", methods=["GET"])
    async def healthz(_request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    return server


class RequireApiKey:
    """ASGI middleware: a request to the MCP endpoint without a usable API key is answered 401 before MCP sees it."""

    def __init__(self, inner, flask_app):
        self.inner, self.flask_app = inner, flask_app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not scope["path"].startswith(PATH):
            return await self.inner(scope, receive, send)
        headers = {name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]}
        problem = await anyio.to_thread.run_sync(partial(self._problem, key_from_headers(headers)))
        if problem is None:
            return await self.inner(scope, receive, send)
        body = json.dumps({"error": {"code": "unauthorized", "message": problem}}).encode()
        await send({
            "type": "http.response.start", "status": 401,
            "headers": [(b"content-type", b"application/json"), (b"www-authenticate", b'Bearer realm="stagecraft"')],
        })
        await send({"type": "http.response.body", "body": body})

    def _problem(self, plaintext: str | None) -> str | None:
        with self.flask_app.app_context():
            try:
                api.authenticate(plaintext)
            except ApiError as error:
                return error.message
        return None


LOOPBACK = ("127.0.0.1", "localhost", "::1")


def transport_security(config, host: str) -> TransportSecuritySettings | None:
    """On a loopback bind the SDK refuses other Host headers (DNS rebinding); a proxy at PUBLIC_BASE_URL is let in."""
    if host not in LOOPBACK:
        return None
    hosts = ["127.0.0.1:*", "localhost:*", "[::1]:*"]
    origins = ["http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*"]
    if config["PUBLIC_BASE_URL"]:
        public = urlsplit(config["PUBLIC_BASE_URL"])
        hosts += [public.netloc, f"{public.hostname}:*"]
        origins += [f"{public.scheme}://{public.netloc}", f"{public.scheme}://{public.hostname}:*"]
    return TransportSecuritySettings(enable_dns_rebinding_protection=True, allowed_hosts=hosts, allowed_origins=origins)


def asgi_app(flask_app, host: str):
    """The MCP server as an ASGI app: stateless Streamable HTTP at /mcp behind the API-key check."""
    server = build_server(flask_app)
    inner = server.streamable_http_app(
        streamable_http_path=PATH, stateless_http=True, host=host,
        transport_security=transport_security(flask_app.config, host),
    )
    return RequireApiKey(inner, flask_app)


def serve(flask_app, host: str, port: int) -> None:
    """Run the MCP server under uvicorn until stopped."""
    import uvicorn

    level = flask_app.config["LOG_LEVEL"].lower()
    uvicorn.run(asgi_app(flask_app, host), host=host, port=port, log_level=level, lifespan="on")
