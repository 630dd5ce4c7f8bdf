"""The authorization matrix: every route of app.url_map against the resources of another workspace.

A logged-in agent of workspace A, and an API key of A's project, ask for workspace B's project, image,
flow, alias, generation, API key, file, user and workspace. Every answer must be a refusal (404 for
B's rows, so their existence is not revealed), never B's data and never a 500. Revoked and expired
keys get 401 on every API route; agents get the admin console's refusal on every admin route.

ADDING A ROUTE (e.g. when merging a branch that adds one): add ONE line to ROUTES, under its surface:

    Route("blueprint.endpoint", "METHOD", "/path/with/{placeholders}", SURFACE, body),

- placeholders name B's resources: {project} {image} {alias} {flow} {flow_alias} {generation} {key}
  {user} {workspace} {file} {record} {delivery} {session} {analysis} {saved} {export}; {own_project} /
  {own_flow} are A's, for "A's row pointing at B's" cases;
- SURFACE is PAGE (a logged-in agent), API (an API key; revoked/expired keys are tried too), ADMIN
  (admin console), or OPEN (no resource of anyone: login, docs, health...). A PAGE or API route that
  lists A's own things uses expect=OWN (any status below 500, none of B's data in the answer);
- body (optional) is the JSON (API) or form (PAGE) to send, with the same placeholders.

API lines send the key the way that surface's clients do (`Authorization: Key` under /fal/, `Bearer`
for the nanobanana API, `X-API-Key` elsewhere) and read the refusal in that surface's shape
(`refusal()`): the nanobanana API answers HTTP 200 with its code in the body.

test_every_route_is_in_the_matrix fails, naming the missing (endpoint, method) pairs, until each
route the app has is listed here, and fails on a stale line for a route that no longer exists.
The same lines, filled with A's own rows (tests/route_walk.py: a new placeholder needs A's row in
own_rows there too), drive the one-commit-per-request and templates-do-no-I/O tests.
"""
import io
import json
from datetime import timedelta
from typing import NamedTuple

import pytest
import sqlalchemy as sa

from app.auth import service as auth_service
from app.analysis import service as analysis
from app.analysis.writing import ListingContext
from app.auth.models import ApiKey
from app.compat.process_image import service as process_image
from app.errors import API_PREFIXES
from app.exports.service import start_export
from app.extensions import db
from app.flows import service as flows
from app.generations.service import create_generation
from app.generations.spec import GenerationSpec
from app.images.aliases import set_project_alias
from app.projects.service import workspaces_for
from app.studio import saved as studio_saved
from app.timeutil import utcnow
from app.webhooks import service as webhooks
from tests import factories

PAGE, API, ADMIN, OPEN = "page", "api", "admin", "open"
NOT_FOUND, OWN = 404, "own"
ADMIN_REFUSED = 403  # an agent on the admin console is refused, and shown nothing of it
IGNORED_METHODS = {"HEAD", "OPTIONS"}
MULTIPART = {"images_api.upload"}  # API lines whose body is a multipart form with a photo in "file"


class Route(NamedTuple):
    endpoint: str
    method: str
    path: str
    surface: str
    body: dict | None = None
    expect: int | str = NOT_FOUND


ROUTES = [
    # --- pages of a logged-in agent --------------------------------------------------------------
    Route("projects.home", "GET", "/", PAGE, expect=OWN),
    Route("projects.index", "GET", "/projects", PAGE, expect=OWN),
    Route("projects.create", "POST", "/projects", PAGE, {"name": "Mine", "kind": "listing"}, expect=OWN),
    Route("projects.detail", "GET", "/projects/{project}", PAGE),
    Route("account.settings", "GET", "/account", PAGE, expect=OWN),
    Route("auth.change_password", "GET", "/account/password", PAGE, expect=OWN),
    Route("auth.change_password", "POST", "/account/password", PAGE,
          {"current_password": "wrong", "new_password": "long enough"}, expect=OWN),
    Route("auth.logout_everywhere", "POST", "/account/logout-everywhere", PAGE, expect=OWN),
    Route("account.update_settings", "POST", "/account", PAGE, {"watermark_text": "Mine", "service": ""}, expect=OWN),
    Route("account.balance", "GET", "/account/balance", PAGE, expect=OWN),
    Route("account.developers", "GET", "/developers", PAGE, expect=OWN),
    Route("account.create_api_project", "POST", "/developers/projects", PAGE, {"name": "Mine"}, expect=OWN),
    Route("flows.index", "GET", "/projects/{project}/flows", PAGE),
    Route("generations.index", "GET", "/projects/{project}/generations", PAGE),
    Route("images.upload", "POST", "/projects/{project}/images", PAGE),
    Route("projects.rename", "POST", "/projects/{project}/rename", PAGE, {"name": "stolen"}),
    Route("projects.delete", "POST", "/projects/{project}/delete", PAGE),
    Route("images.grid", "GET", "/projects/{project}/photos", PAGE),
    Route("images.delete_selection", "POST", "/projects/{project}/photos/delete", PAGE, {"image_ids": "{image}"}),
    Route("images.delete_selection", "POST", "/projects/{own_project}/photos/delete", PAGE, {"image_ids": "{image}"}),
    Route("images.set_room", "POST", "/images/{image}/room", PAGE, {"room_type": "kitchen"}),
    Route("images.rename", "POST", "/images/{image}/title", PAGE, {"title": "stolen"}),
    Route("images.move", "POST", "/images/{image}/move", PAGE, {"direction": "later"}),
    Route("images.delete", "POST", "/images/{image}/delete", PAGE),
    Route("auth.api_keys", "GET", "/projects/{project}/keys", PAGE),
    Route("auth.create_api_key", "POST", "/projects/{project}/keys", PAGE, {"name": "stolen"}),
    Route("auth.revoke_api_key", "POST", "/projects/{project}/keys/{key}/revoke", PAGE),
    Route("auth.revoke_api_key", "POST", "/projects/{own_project}/keys/{key}/revoke", PAGE),
    Route("live.builder", "GET", "/projects/{project}/live", PAGE),
    Route("live.build_url", "POST", "/projects/{project}/live/url", PAGE, {"prompt": "x"}),
    Route("live.update_settings", "POST", "/projects/{project}/live/settings", PAGE, {"miss_budget": "5"}),
    Route("live.rotate_secret", "POST", "/projects/{project}/live/rotate", PAGE),
    Route("flows.detail", "GET", "/flows/{flow}", PAGE),
    Route("flows.set_alias", "POST", "/flows/{flow}/aliases", PAGE, {"alias": "@x", "image_id": "{image}"}),
    Route("flows.set_alias", "POST", "/flows/{own_flow}/aliases", PAGE, {"alias": "@x", "image_id": "{image}"}),
    Route("flows.remove_alias", "POST", "/flows/{flow}/aliases/{flow_alias}/delete", PAGE),
    Route("images.detail", "GET", "/images/{image}", PAGE),
    Route("images.update_properties", "POST", "/images/{image}/properties", PAGE, {"alias": "@mine"}),
    Route("generations.create", "POST", "/images/{image}/generations", PAGE, {"preset": "enhance"}),
    Route("generations.detail", "GET", "/generations/{generation}", PAGE),
    Route("generations.events", "GET", "/generations/{generation}/events", PAGE),
    Route("generations.cancel", "POST", "/generations/{generation}/cancel", PAGE),
    Route("images.file", "GET", "/files/{file}", PAGE, expect=403),  # without B's signature
    Route("webhooks.settings", "GET", "/projects/{project}/callbacks", PAGE),
    Route("webhooks.rotate", "POST", "/projects/{project}/callbacks/rotate", PAGE),
    Route("webhooks.send_test", "POST", "/projects/{project}/callbacks/test", PAGE, {"url": "https://example.com/h"}),
    Route("webhooks.redeliver", "POST", "/projects/{project}/callbacks/{delivery}/redeliver", PAGE),
    Route("webhooks.redeliver", "POST", "/projects/{own_project}/callbacks/{delivery}/redeliver", PAGE),
    Route("process_image.prepare_on_page", "POST", "/images/{image}/prepare", PAGE, {"prompt": "x"}),
    Route("process_image.prepared_on_page", "GET", "/images/{image}/prepared", PAGE),
    Route("process_image.process_on_page", "POST", "/image-generations/{record}/process", PAGE),
    Route("analysis.index", "GET", "/projects/{project}/describe", PAGE),
    Route("analysis.start", "POST", "/projects/{project}/describe", PAGE, {"image_ids": "{image}"}),
    Route("analysis.session_page", "GET", "/projects/{project}/describe/{session}", PAGE),
    Route("analysis.session_page", "GET", "/projects/{own_project}/describe/{session}", PAGE),
    Route("analysis.download", "GET", "/projects/{project}/describe/{session}/download.csv", PAGE),
    Route("analysis.events", "GET", "/projects/{project}/describe/{session}/events", PAGE),
    Route("analysis.edit", "POST", "/projects/{project}/describe/{session}/photos/{analysis}", PAGE, {"title": "x"}),
    Route("studio.bar", "GET", "/projects/{project}/studio", PAGE),
    Route("studio.quote", "POST", "/projects/{project}/studio/quote", PAGE, {"choice": "preset:enhance"}),
    Route("studio.quote", "POST", "/projects/{own_project}/studio/quote", PAGE,
          {"choice": "preset:enhance", "image_ids": "{image}"}),
    Route("studio.apply", "POST", "/projects/{project}/studio/batches", PAGE,
          {"choice": "preset:enhance", "image_ids": "{image}"}),
    Route("studio.apply", "POST", "/projects/{own_project}/studio/batches", PAGE,
          {"choice": "preset:enhance", "image_ids": "{image}"}),
    Route("studio.retry", "POST", "/projects/{project}/studio/retry/{generation}", PAGE),
    Route("studio.retry", "POST", "/projects/{own_project}/studio/retry/{generation}", PAGE),
    Route("studio.save_preset", "POST", "/projects/{project}/studio/presets", PAGE, {"name": "x", "prompt": "y"}),
    Route("studio.save_preset", "POST", "/projects/{own_project}/studio/presets", PAGE,
          {"name": "x", "generation_id": "{generation}"}),
    Route("studio.delete_preset", "POST", "/projects/{project}/studio/presets/{saved}/delete", PAGE),
    Route("studio.delete_preset", "POST", "/projects/{own_project}/studio/presets/{saved}/delete", PAGE),
    Route("studio.events", "GET", "/projects/{project}/studio/events", PAGE),
    Route("versions.keep", "POST", "/images/{image}/keep", PAGE, {"version": "{image}"}),
    Route("versions.again", "POST", "/generations/{generation}/again", PAGE),
    Route("exports.create", "POST", "/projects/{project}/exports", PAGE, {"scope": "all"}),
    Route("exports.status", "GET", "/exports/{export}", PAGE),
    # --- the v1 API, with an API key of A's project ------------------------------------------------
    Route("images_api.list_images", "GET", "/api/v1/images", API, expect=OWN),
    Route("images_api.list_images", "GET", "/api/v1/images?flowId={flow}", API, expect=OWN),
    Route("images_api.upload", "POST", "/api/v1/images/upload", API, {"flowId": "{flow}"}),
    Route("images_api.detail", "GET", "/api/v1/images/{image}", API),
    Route("images_api.update", "PUT", "/api/v1/images/{image}", API, {"alias": "@mine"}),
    Route("images_api.delete", "DELETE", "/api/v1/images/{image}?hard=true", API),
    Route("images_api.set_alias", "PUT", "/api/v1/images/{image}/alias", API, {"alias": "@mine"}),
    Route("images_api.resolve", "GET", "/api/v1/images/resolve/{alias}", API),
    Route("images_api.resolve", "GET", "/api/v1/images/resolve/{flow_alias}?flowId={flow}", API),
    Route("generations.api_list", "GET", "/api/v1/generations", API, expect=OWN),
    Route("generations.api_list", "GET", "/api/v1/generations?flowId={flow}", API, expect=OWN),
    Route("generations.api_create", "POST", "/api/v1/generations", API,
          {"preset": "enhance", "referenceImages": ["{image}"]}),
    Route("generations.api_create", "POST", "/api/v1/generations", API, {"prompt": "x", "flowId": "{flow}"}),
    Route("generations.api_detail", "GET", "/api/v1/generations/{generation}", API),
    Route("generations.api_delete", "DELETE", "/api/v1/generations/{generation}?hard=true", API),
    Route("generations.api_cancel", "POST", "/api/v1/generations/{generation}/cancel", API),
    Route("generations.api_retry", "POST", "/api/v1/generations/{generation}/retry", API),
    Route("flows.api_list", "GET", "/api/v1/flows", API, expect=OWN),
    Route("flows.api_create", "POST", "/api/v1/flows", API, {"aliases": {"@x": "{image}"}}),
    Route("flows.api_detail", "GET", "/api/v1/flows/{flow}", API),
    Route("flows.api_delete", "DELETE", "/api/v1/flows/{flow}", API),
    Route("flows.api_update_aliases", "PUT", "/api/v1/flows/{flow}/aliases", API, {"@x": "{image}"}),
    Route("flows.api_update_aliases", "PUT", "/api/v1/flows/{own_flow}/aliases", API, {"@x": "{image}"}),
    Route("flows.api_delete_alias", "DELETE", "/api/v1/flows/{flow}/aliases/{flow_alias}", API),
    Route("flows.api_generations", "GET", "/api/v1/flows/{flow}/generations", API),
    Route("flows.api_images", "GET", "/api/v1/flows/{flow}/images", API),
    Route("live.image", "GET", "/api/v1/live?prompt=x&project={project}&sig=forged", OPEN, expect=401),
    Route("analysis_api.create_session", "POST", "/v1/sessions", API, {"imageIds": ["{image}"]}, expect=OWN),
    Route("analysis_api.detail", "GET", "/v1/sessions/{session}", API),
    Route("analysis_api.upload", "POST", "/v1/sessions/{session}/uploads", API),
    Route("analysis_api.add_images", "POST", "/v1/sessions/{session}/images", API, {"imageIds": ["{image}"]}),
    Route("analysis_api.analyze", "POST", "/v1/sessions/{session}/analyze", API, {"sessionId": "{session}"}),
    Route("analysis_api.analyze_single", "POST", "/v1/sessions/{session}/analyze-single", API,
          {"sessionId": "{session}", "image": {"id": "{analysis}"}}),
    Route("analysis_api.follow", "GET", "/v1/sessions/{session}/events", API),
    # --- the fal-style queue, the nanobanana API and process-image, each with its own key header ---------
    Route("fal.submit", "POST", "/fal/queue/stagecraft/enhance", API, {"image_urls": ["/files/{file}"]}, expect=OWN),
    Route("fal.status", "GET", "/fal/queue/stagecraft/enhance/requests/{generation}/status", API),
    Route("fal.status_stream", "GET", "/fal/queue/stagecraft/enhance/requests/{generation}/status/stream", API),
    Route("fal.result", "GET", "/fal/queue/stagecraft/enhance/requests/{generation}", API),
    Route("fal.cancel", "PUT", "/fal/queue/stagecraft/enhance/requests/{generation}/cancel", API),
    Route("nanobanana.generate", "POST", "/api/v1/nanobanana/generate", API,
          {"prompt": "x", "type": "IMAGETOIMAGE", "imageUrls": ["/files/{file}"]}, expect=OWN),
    Route("nanobanana.record_info", "GET", "/api/v1/nanobanana/record-info?taskId={generation}", API),
    Route("nanobanana.record_info", "GET", "/api/v1/nanobanana/record?taskId={generation}", API),
    Route("nanobanana.credit", "GET", "/api/v1/common/credit", API, expect=OWN),
    Route("process_image.create_record", "POST", "/api/image-generations", API, {"imageId": "{image}", "prompt": "x"}),
    Route("process_image.list_records", "GET", "/api/image-generations", API, expect=OWN),
    Route("process_image.record_status", "GET", "/api/image-generations/{record}", API),
    Route("process_image.process_image", "POST", "/api/process-image", API, {"imageId": "{record}"}),
    Route("process_image.inpaint_image", "POST", "/api/inpaint-image", API,
          {"imageId": "{image}", "prompt": "x", "mask": "data:image/png;base64,iVBORw0KGgo="}),
    # --- the admin console --------------------------------------------------------------------
    Route("admin.overview", "GET", "/admin/", ADMIN),
    Route("admin.users", "GET", "/admin/users", ADMIN),
    Route("admin.create_user", "POST", "/admin/users", ADMIN, {"email": "x@example.com", "password": "long enough"}),
    Route("admin.deactivate_user", "POST", "/admin/users/{user}/deactivate", ADMIN),
    Route("admin.log_out_user_everywhere", "POST", "/admin/users/{user}/logout-everywhere", ADMIN),
    Route("admin.reactivate_user", "POST", "/admin/users/{user}/reactivate", ADMIN),
    Route("admin.change_role", "POST", "/admin/users/{user}/role", ADMIN, {"role": "admin"}),
    Route("admin.workspaces", "GET", "/admin/workspaces", ADMIN),
    Route("admin.workspace", "GET", "/admin/workspaces/{workspace}", ADMIN),
    Route("admin.adjust_credits", "POST", "/admin/workspaces/{workspace}/credits", ADMIN, {"amount": "5"}),
    Route("admin.ledger", "GET", "/admin/ledger", ADMIN),
    Route("admin.jobs", "GET", "/admin/jobs", ADMIN),
    Route("admin.requeue", "POST", "/admin/jobs/{generation}/requeue", ADMIN),
    # --- open to anyone: no resource of a workspace behind them ------------------------------------
    Route("auth.login", "GET", "/login", OPEN, expect=OWN),
    Route("auth.login", "POST", "/login", OPEN, {"email": "{email}", "password": "guess"}, expect=400),
    Route("auth.signup", "GET", "/signup", OPEN, expect=OWN),
    Route("auth.signup", "POST", "/signup", OPEN, {"email": "{email}", "password": "long enough"}, expect=409),
    Route("auth.logout", "POST", "/logout", OPEN, expect=OWN),
    Route("health.readyz", "GET", "/readyz", OPEN, expect=OWN),
    Route("generations.presets", "GET", "/presets", OPEN, expect=OWN),
    Route("health.healthz", "GET", "/healthz", OPEN, expect=OWN),
    Route("process_image.health", "GET", "/api/process-image", OPEN, expect=OWN),
    Route("apidocs.reference", "GET", "/api/docs", OPEN, expect=OWN),
    Route("apidocs.openapi_document", "GET", "/api/openapi.json", OPEN, expect=OWN),
    Route("static", "GET", "/static/js/forms.js", OPEN, expect=OWN),
    Route("favicon", "GET", "/favicon.ico", OPEN, expect=OWN),
    Route("upstreams.nanobanana_callback", "POST", "/webhooks/nanobanana", OPEN,
          {"code": 200, "data": {"taskId": "{generation}"}}, expect=404),
]


class Other(NamedTuple):
    """Workspace B's resources, by placeholder, and the strings that must never appear in A's answers."""

    values: dict
    secrets: list


@pytest.fixture
def other(app) -> Other:
    owner = factories.make_user("owner-b@example.com")
    project = factories.make_project(owner, name="Secret Manor 99")
    image = factories.make_image(project)
    set_project_alias(project, image, "@secret-front")
    flow = flows.create_flow(project, aliases={"@secret-flow": image.id})
    generation = create_generation(project, GenerationSpec(preset="enhance", references=[image.id]))
    key, plaintext = auth_service.create_api_key(project, "B's key")
    record = process_image.prepare(project, "Scandinavian staging", image_id=image.id)
    app.config["OUTBOUND_ALLOWLIST"] = ("127.0.0.1",)
    delivery = webhooks.send_test_event(project, "http://127.0.0.1:9/b-hook")
    session = analysis.create_session(project, ListingContext(address="99 Secret Lane"))
    described = analysis.add_project_image(project, session, image.id)
    saved = studio_saved.save_preset(project.workspace_id, owner, "Secret staging words", "brighten the secret room")
    export = start_export(project, None)
    db.session.commit()
    values = {
        "project": project.id, "image": image.id, "alias": "@secret-front", "flow": flow.id,
        "flow_alias": "@secret-flow", "generation": generation.id, "key": key.id, "user": owner.id,
        "workspace": workspaces_for(owner)[0].id, "file": image.storage_key, "email": owner.email,
        "record": record.id, "delivery": delivery.id, "session": session.id, "analysis": described.id,
        "saved": saved.id,
        "export": export.id,
    }
    secrets = [image.id, flow.id, generation.id, "Secret Manor 99", plaintext, image.storage_key, "99 Secret Lane", "Secret staging words"]
    return Other(values, secrets)


@pytest.fixture
def mine(user, project, logged_in, api_client) -> dict:
    """A's own project and flow, for lines where A's row points at B's resource."""
    flow = flows.create_flow(project)
    db.session.commit()
    return {"own_project": project.id, "own_flow": flow.id}


def fill(route: Route, values: dict) -> tuple[str, dict | None]:
    """The line's path and body with B's (and A's own) ids in place of the placeholders."""
    path = route.path.format(**values)
    return path, json.loads(_format_strings(json.dumps(route.body), values)) if route.body else None


def _format_strings(text: str, values: dict) -> str:
    for name, value in values.items():
        text = text.replace("{" + name + "}", str(value))
    return text


def key_headers(path: str, key: str) -> dict:
    """The key as that surface's clients send it."""
    if path.startswith("/fal/"):
        return {"Authorization": f"Key {key}"}
    if path.startswith(("/api/v1/nanobanana/", "/api/v1/common/")):
        return {"Authorization": f"Bearer {key}"}
    return {"X-API-Key": key}


def refusal(response) -> tuple[int, str]:
    """The status and message of an answer, read in its surface's own error shape."""
    body = response.get_json(silent=True) if response.is_json else None
    if not isinstance(body, dict):
        return response.status_code, ""
    if {"code", "msg"} <= body.keys():  # the nanobanana API: HTTP 200, the code in the body
        return body["code"], str(body["msg"])
    if "detail" in body:  # the fal-style queue
        return response.status_code, json.dumps(body["detail"])
    error = body.get("error")
    return response.status_code, str(error.get("message") if isinstance(error, dict) else error)


def send(client, route: Route, path: str, body, headers=None):
    """JSON bodies on the JSON surfaces, multipart for uploads, form fields for pages."""
    if route.endpoint in MULTIPART:
        data = {"file": (io.BytesIO(factories.photo_bytes("kitchen_02.jpg")), "k.jpg"), **body}
        return client.open(path, method=route.method, data=data, headers=headers)
    if path.startswith(API_PREFIXES):
        return client.open(path, method=route.method, json=body, headers=headers)
    return client.open(path, method=route.method, data=body, headers=headers)


def route_id(route: Route) -> str:
    return f"{route.method} {route.path}"


def test_every_route_is_in_the_matrix(app):
    """A route the app has and the matrix lacks fails here: add its line to ROUTES (see the module docstring)."""
    have = {(rule.endpoint, method) for rule in app.url_map.iter_rules() for method in rule.methods - IGNORED_METHODS}
    listed = {(route.endpoint, route.method) for route in ROUTES}
    assert not have - listed, f"routes missing from the authorization matrix: {sorted(have - listed)}"
    assert not listed - have, f"matrix lines for routes the app no longer has: {sorted(listed - have)}"


@pytest.mark.parametrize("route", ROUTES, ids=route_id)
def test_another_workspace_is_never_reachable(route, app, client, user, other, mine, api_client):
    values = {**other.values, **mine}
    path, body = fill(route, values)
    if route.surface == OPEN:
        client.post("/logout")
    headers = key_headers(path, api_client.key) if route.surface == API else None
    response = send(client, route, path, body, headers)
    expected = ADMIN_REFUSED if route.surface == ADMIN else route.expect
    status, _ = refusal(response)
    assert response.status_code < 500 and status < 500, response.get_data(as_text=True)[:500]
    if expected != OWN:
        assert status == expected, response.get_data(as_text=True)[:500]
    text = response.get_data(as_text=True) if not response.is_streamed or response.status_code != 200 else ""
    leaked = [secret for secret in other.secrets if secret in text]
    assert not leaked, f"{route_id(route)} answered with workspace B's data: {leaked}"
    response.close()


@pytest.mark.parametrize("route", [route for route in ROUTES if route.surface == API], ids=route_id)
def test_revoked_and_expired_keys_get_401(route, app, client, project, other, mine):
    revoked, revoked_plain = auth_service.create_api_key(project, "revoked")
    expired, expired_plain = auth_service.create_api_key(project, "expired")
    revoked.revoked_at = utcnow()
    expired.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    path, body = fill(route, {**other.values, **mine})
    for plaintext, word in ((revoked_plain, "revoked"), (expired_plain, "expired")):
        response = send(client, route, path, body, key_headers(path, plaintext))
        status, message = refusal(response)
        assert status == 401, (word, response.get_data(as_text=True)[:300])
        assert word in message


def test_revoked_key_gets_401_on_live_urls_too(client, project):
    key, plaintext = auth_service.create_api_key(project, "revoked")
    key.revoked_at = utcnow()
    db.session.commit()
    assert client.get("/api/v1/live?prompt=x", headers={"X-API-Key": plaintext}).status_code == 401


def test_admin_console_refuses_anonymous_visitors(client):
    for route in (route for route in ROUTES if route.surface == ADMIN and route.method == "GET"):
        response = client.get(route.path.format(user=1, workspace=1, generation="x"))
        assert response.status_code in (302, 401, ADMIN_REFUSED)


def test_matrix_refusals_left_workspace_b_untouched(app, client, user, other, mine, api_client):
    """After every unsafe line has been tried, B's rows are as they were."""
    for route in ROUTES:
        if route.method != "GET" and route.surface in (PAGE, API, ADMIN):
            path, body = fill(route, {**other.values, **mine})
            headers = key_headers(path, api_client.key) if route.surface == API else None
            send(client, route, path, body, headers).close()
    db.session.expire_all()
    key = db.session.get(ApiKey, other.values["key"])
    assert key.revoked_at is None
    count = sa.select(sa.func.count(ApiKey.id)).where(ApiKey.project_id == other.values["project"])
    assert db.session.scalar(count) == 1
