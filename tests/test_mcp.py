"""The MCP server for assistants, driven by the `mcp` package's own Streamable HTTP client against a real server."""
import asyncio
import base64
import json
import subprocess
import sys
import threading

import pytest
import requests
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from app.auth.models import ApiKey
from app.extensions import db
from app.generations.models import Generation, GenerationStatus
from app.providers import registry
from tests.factories import make_api_key, make_image, photo_bytes
from tests.processes import (
    HANG_GUARD,
    ROOT,
    free_port,
    process_env,
    stop_tree,
    wait_until_healthy,
)
from tests.upstreams import gemini as gemini_module


@pytest.fixture
def mcp_server(config):
    """`flask mcp-server` as `make run` starts it, on an ephemeral port, against the test's database and Redis."""
    started = []

    def start(**extra_env):
        port = free_port()
        env = {**process_env(config), **{name: str(value) for name, value in extra_env.items()}}
        log = open(f"{config['VAR_DIR']}/mcp.log", "ab")
        process = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", "mcp-server", "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT, env=env, start_new_session=True, stdout=log, stderr=subprocess.STDOUT,
        )
        started.append((process, log))
        wait_until_healthy(f"http://127.0.0.1:{port}", process)
        return f"http://127.0.0.1:{port}/mcp"

    yield start
    for process, log in started:
        stop_tree(process)
        log.close()


def connect(url: str, key: str | None) -> Client:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return Client(streamable_http_client(url, http_client=create_mcp_http_client(headers=headers)))


def payload(result) -> dict:
    """A tool's answer: its structured content, which its text repeats as JSON."""
    assert not result.is_error, text_of(result)
    assert json.loads(result.content[0].text) == result.structured_content
    return result.structured_content


def text_of(result) -> str:
    return " ".join(block.text for block in result.content if getattr(block, "text", None))


def test_an_assistant_edits_a_photo_says_it_runs_and_reports_the_result_and_credits(
    mcp_server, project, worker
):
    key = make_api_key(project)
    image = make_image(project)
    url = mcp_server()

    async def start():
        async with connect(url, key) as client:
            tools = {tool.name for tool in (await client.list_tools()).tools}
            presets = payload(await client.call_tool("list_presets", {}))["presets"]
            before = payload(await client.call_tool("get_credits", {}))
            started = payload(await client.call_tool("edit_image", {"image": image.id, "preset": "enhance"}))
            running = payload(await client.call_tool("get_task", {"task_id": started["task_id"]}))
            return tools, presets, before, started, running

    tools, presets, before, started, running = asyncio.run(start())
    assert tools >= {"generate_image", "edit_image", "get_task", "get_credits", "list_presets"}
    enhance = next(preset for preset in presets if preset["id"] == "enhance")
    assert enhance["available"] and enhance["credits_per_photo"] == started["credits_cost"] > 0
    assert started["status"] == "queued" and "get_task" in started["message"]
    assert running["status"] == "queued"
    assert started["credits_remaining"] == before["credits_remaining"] - started["credits_cost"]

    worker()

    async def finish():
        async with connect(url, key) as client:
            return payload(await client.call_tool("get_task", {"task_id": started["task_id"], "wait_seconds": 5}))

    done = asyncio.run(finish())
    assert done["status"] == "succeeded" and done["progress_percent"] == 100
    [result_url] = done["result_urls"]
    assert "/files/" in result_url and "sig=" in result_url
    assert done["credits_remaining"] == started["credits_remaining"]  # the reserve was captured, not charged twice
    generation = db.session.get(Generation, started["task_id"])
    assert generation.api_key_id is not None
    db.session.expire_all()
    assert db.session.get(ApiKey, generation.api_key_id).last_used_at is not None  # shown on the project's keys page


def test_get_task_waits_for_the_worker_to_finish(app, mcp_server, project, worker, gemini_upstream):
    # A prompt alone needs an AI service (no more placeholders by default): Gemini's stand-in, for both processes.
    gemini = {"GEMINI_API_KEY": gemini_module.API_KEY, "GEMINI_BASE_URL": gemini_upstream.base_url}
    app.config.update(gemini)
    registry.configure(app)
    key = make_api_key(project)
    url = mcp_server(**gemini)
    started, answers = threading.Event(), {}

    async def scenario():
        async with connect(url, key) as client:
            task = payload(await client.call_tool("generate_image", {"prompt": "a front porch at dusk"}))
            waiting = asyncio.create_task(client.call_tool("get_task", {"task_id": task["task_id"], "wait_seconds": 60}))
            started.set()
            answers["done"] = payload(await waiting)

    assistant = threading.Thread(target=asyncio.run, args=(scenario(),))
    assistant.start()
    assert started.wait(HANG_GUARD)
    worker()  # the RQ worker needs the main thread (it installs signal handlers)
    assistant.join(HANG_GUARD)
    done = answers["done"]
    assert done["status"] == "succeeded" and "placeholder" not in done.get("note", "")


def test_bad_input_is_a_tool_error_a_person_can_act_on(mcp_server, project):
    key = make_api_key(project)
    url = mcp_server()

    photo = "data:image/jpeg;base64," + base64.b64encode(photo_bytes("kitchen_02.jpg")).decode()

    async def scenario():
        async with connect(url, key) as client:
            unknown = await client.call_tool("get_task", {"task_id": "no-such-task"})
            no_instructions = await client.call_tool("edit_image", {"image": "no-such-image"})
            needs_ai = await client.call_tool("edit_image", {"image": photo, "prompt": "add a swimming pool"})
            from_data_uri = await client.call_tool("edit_image", {"image": photo, "prompt": "brighten"})
            return unknown, no_instructions, needs_ai, from_data_uri

    unknown, no_instructions, needs_ai, from_data_uri = asyncio.run(scenario())
    assert unknown.is_error and "not found" in text_of(unknown)
    assert no_instructions.is_error and "prompt" in text_of(no_instructions)
    assert needs_ai.is_error and "It can:" in text_of(needs_ai)
    started = from_data_uri.structured_content
    assert not from_data_uri.is_error and started["status"] == "queued"
    generation = db.session.get(Generation, started["task_id"])
    assert generation.source_image_id is not None  # the data URI became a photo of the project


def test_without_a_valid_api_key_the_server_answers_401(mcp_server, project):
    url = mcp_server()
    assert requests.post(url, json={}, timeout=10).status_code == 401
    response = requests.post(url, json={}, headers={"Authorization": "Bearer sk-not-a-key"}, timeout=10)
    assert response.status_code == 401 and "Invalid API key" in response.json()["error"]["message"]

    async def scenario():
        async with connect(url, None) as client:
            await client.list_tools()

    with pytest.raises(Exception):
        asyncio.run(scenario())


def test_a_content_filter_refusal_comes_back_asking_to_rephrase(app, mcp_server, project, worker, fal_queue):
    settings = {
        "FAL_KEY": fal_queue.key, "FAL_QUEUE_URL": fal_queue.url, "OUTBOUND_ALLOWLIST": "127.0.0.1",
        "PROVIDER_POLL_INTERVAL": "0.01", "PROVIDER_POLL_MAX": "0.05",
    }
    app.config.update({**settings, "OUTBOUND_ALLOWLIST": ("127.0.0.1",), "PROVIDER_POLL_INTERVAL": 0.01,
                       "PROVIDER_POLL_MAX": 0.05})
    registry.configure(app)
    fal_queue.script(error="content_policy_violation")
    key = make_api_key(project)
    image = make_image(project, "living_01.jpg")
    url = mcp_server(**settings)

    async def start():
        async with connect(url, key) as client:
            before = payload(await client.call_tool("get_credits", {}))
            started = payload(await client.call_tool(
                "edit_image", {"image": image.id, "preset": "virtual-staging-scandinavian",
                               "prompt": "stage this living room"}
            ))
            return before, started

    before, started = asyncio.run(start())
    assert started["credits_cost"] > 0
    worker()
    generation = db.session.get(Generation, started["task_id"])
    assert (generation.status, generation.error_code) == (GenerationStatus.FAILED, "content_policy")

    async def follow():
        async with connect(url, key) as client:
            refused = await client.call_tool("get_task", {"task_id": started["task_id"]})
            after = payload(await client.call_tool("get_credits", {}))
            return refused, after

    refused, after = asyncio.run(follow())
    assert refused.is_error and "rephrase" in text_of(refused).lower()
    assert after["credits_remaining"] == before["credits_remaining"]  # refunded
    assert len(fal_queue.submissions) == 1  # a refusal is final: not retried elsewhere


def test_behind_a_proxy_the_public_host_is_accepted_and_others_are_not(mcp_server, project):
    key = make_api_key(project)
    url = mcp_server(PUBLIC_BASE_URL="https://photos.example.com")
    initialize = {
        "jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "curl", "version": "1"}},
    }
    headers = {"Authorization": f"Bearer {key}", "Accept": "application/json, text/event-stream"}
    proxied = requests.post(url, json=initialize, headers={**headers, "Host": "photos.example.com"}, timeout=10)
    assert proxied.status_code == 200, proxied.text
    rebound = requests.post(url, json=initialize, headers={**headers, "Host": "evil.example.net"}, timeout=10)
    assert rebound.status_code in (400, 421)
