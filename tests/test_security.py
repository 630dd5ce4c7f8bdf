"""Hostile callers and bad input (issue 15): each finding of the attack on the running app, as a regression test."""
import io
import json
import re
from pathlib import Path

import pytest
import sqlalchemy as sa

from app import create_app
from app.auth import backoff
from app.extensions import db, redis_queues
from app.flows.models import Flow
from app.images.models import Image
from tests import factories
from tests.factories import PASSWORD, photo_bytes

ROOT = Path(__file__).resolve().parents[1]
HUGE = "99999999999999999999"


def json_post(api_client, path, body: str, method="post"):
    call = getattr(api_client.client, method)
    return call(path, data=body, headers={"X-API-Key": api_client.key, "Content-Type": "application/json"})


def message(response) -> str:
    return response.get_json()["error"]["message"]


# 1. The login page is no open redirect, and an account is locked for a while after wrong passwords.

@pytest.mark.parametrize("target", [
    "/%09/evil.example", "/%0A/x", "/%0D/x", "//evil.example", "/%5Cevil.example", "/\\evil.example",
    "https://evil.example/", "javascript:alert(1)", "/ /evil.example", "%2F%2Fevil.example",
])
def test_login_next_accepts_only_same_site_paths(client, user, target):
    response = client.post(f"/login?next={target}", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"] == "/projects"


def test_login_next_keeps_a_same_site_path_with_its_query(client, user):
    response = client.post("/login?next=/presets%3Fa%3D1", data={"email": user.email, "password": PASSWORD})
    assert response.headers["Location"] == "/presets?a=1"


def test_wrong_passwords_lock_the_account_for_a_while_even_with_the_right_one(app, client, user):
    other = factories.make_user()
    for _ in range(app.config["LOGIN_FAILURES_BEFORE_BACKOFF"]):
        assert client.post("/login", data={"email": user.email, "password": "guess"}).status_code == 400
    locked = client.post("/login", data={"email": user.email.upper(), "password": PASSWORD})
    assert locked.status_code == 429
    assert b"Too many wrong passwords for this account" in locked.data
    assert 0 < int(locked.headers["Retry-After"]) <= backoff.FIRST_WAIT
    # Other accounts are not affected; once the wait is over (its key expired), the right password works.
    assert client.post("/login", data={"email": other.email, "password": PASSWORD}).status_code == 302
    redis_queues.connection.delete(backoff._keys(user.email)[1])
    assert client.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 302


def test_each_further_failure_doubles_the_wait(app, user):
    for _ in range(app.config["LOGIN_FAILURES_BEFORE_BACKOFF"] + 2):
        backoff.record_failure(user.email)
    assert redis_queues.connection.ttl(backoff._keys(user.email)[1]) > 2 * backoff.FIRST_WAIT


# 2. Flow aliases: sizes are checked before any work, and the image ids in one query.

def test_ten_thousand_aliases_are_refused_before_any_lookup(api_client, project, app):
    flow = json_post(api_client, "/api/v1/flows", "{}").get_json()["data"]
    aliases = {f"@a{number}": "no-such-image" for number in range(10_000)}
    with count_queries(app) as queries:
        response = json_post(api_client, f"/api/v1/flows/{flow['id']}/aliases", json.dumps(aliases), method="put")
    assert response.status_code == 400
    assert message(response) == "A flow holds at most 200 aliases."
    assert not [sql for sql in queries if "images" in sql]


def test_aliases_are_checked_in_one_query(api_client, project, app):
    image = factories.make_image(project)
    flow = json_post(api_client, "/api/v1/flows", "{}").get_json()["data"]
    aliases = {f"@a{number}": image.id for number in range(150)}
    with count_queries(app) as queries:
        response = json_post(api_client, f"/api/v1/flows/{flow['id']}/aliases", json.dumps(aliases), method="put")
    assert response.status_code == 200, response.get_json()
    assert len([sql for sql in queries if "FROM images" in sql and "images.id IN" in sql]) == 1
    unknown = json_post(api_client, f"/api/v1/flows/{flow['id']}/aliases", '{"@x": "nope"}', method="put")
    assert unknown.status_code == 404


class count_queries:
    """The SQL statements the app's engine runs inside the block."""

    def __init__(self, app):
        self.engine, self.statements = db.engine, []

    def _note(self, _conn, _cursor, statement, *_args):
        self.statements.append(statement)

    def __enter__(self):
        sa.event.listen(self.engine, "before_cursor_execute", self._note)
        return self.statements

    def __exit__(self, *_exc):
        sa.event.remove(self.engine, "before_cursor_execute", self._note)


# 3. Reproducible 500s: huge offsets, deep JSON, lone surrogates.

API_LISTS = ["/api/v1/images", "/api/v1/flows", "/api/v1/generations"]


def test_huge_offsets_and_limits_are_400_on_every_list(api_client, logged_in, project, app):
    flow = json_post(api_client, "/api/v1/flows", "{}").get_json()["data"]
    lists = API_LISTS + [f"/api/v1/flows/{flow['id']}/generations", f"/api/v1/flows/{flow['id']}/images"]
    for path in lists:
        for parameter in ("offset", "limit"):
            response = api_client.get(f"{path}?{parameter}={HUGE}")
            assert response.status_code == 400, (path, parameter)
            assert parameter in message(response)
    assert logged_in.get(f"/projects/{project.id}/generations?offset={HUGE}").status_code == 400


def test_huge_offsets_are_400_on_the_admin_console_lists(app):
    admin = factories.make_user("root@example.com", role="admin")
    client = app.test_client()
    client.post("/login", data={"email": admin.email, "password": PASSWORD})
    for path in ("/admin/users", "/admin/workspaces", "/admin/ledger", "/admin/jobs"):
        assert client.get(f"{path}?offset={HUGE}").status_code == 400, path


@pytest.mark.parametrize("method, path", [
    ("post", "/api/v1/generations"), ("put", "/api/v1/images/{image}"), ("put", "/api/v1/flows/{flow}/aliases"),
    ("post", "/api/v1/flows"), ("post", "/api/v1/generations/{generation}/retry"),
])
def test_json_nested_a_thousand_deep_is_a_clear_400(api_client, project, method, path):
    image = factories.make_image(project)
    flow = json_post(api_client, "/api/v1/flows", "{}").get_json()["data"]
    url = path.format(image=image.id, flow=flow["id"], generation="any")
    for body in ("[" * 1000 + "]" * 1000, '{"meta": ' + '{"a": ' * 1000 + "1" + "}" * 1001):
        response = json_post(api_client, url, body, method=method)
        assert response.status_code == 400, response.data
        assert "nests too deeply" in message(response)


def test_brackets_inside_strings_do_not_count_as_nesting(api_client, project):
    image = factories.make_image(project)
    body = json.dumps({"preset": "enhance", "referenceImages": [image.id], "prompt": "[" * 2000})
    assert json_post(api_client, "/api/v1/generations", body).status_code == 201


@pytest.mark.parametrize("field", ["prompt", "alias", "meta"])
def test_a_lone_surrogate_is_a_clear_400(api_client, project, field):
    image = factories.make_image(project)
    value = '{"note": "\\ud800"}' if field == "meta" else '"bad \\ud800 text"'
    body = f'{{"preset": "enhance", "referenceImages": ["{image.id}"], "{field}": {value}}}'
    response = json_post(api_client, "/api/v1/generations", body)
    assert response.status_code == 400
    assert "valid Unicode" in message(response)


def test_a_json_body_over_a_megabyte_is_refused(api_client):
    response = json_post(api_client, "/api/v1/flows", json.dumps({"meta": {"x": "a" * (1024 * 1024)}}))
    assert response.status_code == 413


# 7. Smaller findings.

def test_remember_cookie_is_samesite_and_httponly_like_the_session_cookie(client, user):
    response = client.post("/login", data={"email": user.email, "password": PASSWORD, "remember": "y"})
    cookies = {header.split("=", 1)[0]: header for header in response.headers.getlist("Set-Cookie")}
    assert "SameSite=Lax" in cookies["stagecraft_remember"] and "HttpOnly" in cookies["stagecraft_remember"]


def test_remember_cookie_is_secure_when_the_session_cookie_is(config):
    app = create_app({**config, "SESSION_COOKIE_SECURE": True, "REMEMBER_COOKIE_SECURE": True})
    with app.app_context():
        user = factories.make_user()
        response = app.test_client().post("/login", data={"email": user.email, "password": PASSWORD, "remember": "y"})
        cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("stagecraft_remember="))
        assert "Secure" in cookie
        db.session.remove()


def test_remember_cookie_follows_session_cookie_secure_setting():
    from app.config import load_config

    assert load_config({"SESSION_COOKIE_SECURE": "true"})["REMEMBER_COOKIE_SECURE"] is True


@pytest.mark.parametrize("meta", [
    {"blob": "x" * (5 * 1024 * 1024 // 10)},
    {f"k{number}": number for number in range(100_000)},
    json.loads('{"a": ' * 12 + "1" + "}" * 12),
])
def test_oversized_or_deep_meta_is_a_clear_400_everywhere(api_client, project, meta):
    image = factories.make_image(project)
    body = json.dumps({"meta": meta})
    for method, path in [("post", "/api/v1/flows"), ("put", f"/api/v1/images/{image.id}")]:
        response = json_post(api_client, path, body, method=method)
        assert response.status_code in (400, 413), (path, response.status_code)
        if response.status_code == 400:
            assert "meta must be a JSON object of at most 16 KB" in message(response)
    create = json_post(api_client, "/api/v1/generations",
                       json.dumps({"preset": "enhance", "referenceImages": [image.id], "meta": meta}))
    assert create.status_code in (400, 413)
    upload = api_client.post("/api/v1/images/upload", data={
        "file": (io.BytesIO(photo_bytes("kitchen_02.jpg")), "k.jpg"), "meta": json.dumps(meta)})
    assert upload.status_code in (400, 413)


@pytest.mark.parametrize("filename, shown", [
    ("../../etc/passwd.jpg", "passwd.jpg"),
    ("/var/www/abs.jpg", "abs.jpg"),
    ("nul\x00byte.jpg", "nulbyte.jpg"),
    ("bell\x07and\x7fdel.jpg", "bellanddel.jpg"),
    ("..", None),
])
def test_stored_display_filename_is_sanitised(api_client, logged_in, project, filename, shown):
    response = api_client.post(
        "/api/v1/images/upload", data={"file": (io.BytesIO(photo_bytes("kitchen_02.jpg")), filename)}
    )
    assert response.status_code == 201, response.get_json()
    image = db.session.get(Image, response.get_json()["data"]["id"])
    assert image.original_filename == shown
    page = logged_in.get(f"/images/{image.id}")
    assert b"\x00" not in page.data and b"../" not in page.data


def test_display_filename_drops_windows_paths_too():
    from app.images.service import display_filename

    assert display_filename("C:\\Users\\me\\win.jpg") == "win.jpg"
    assert display_filename("  ") is None


def test_api_upload_of_several_files_is_refused_naming_the_rule(api_client, project):
    files = [(io.BytesIO(photo_bytes("kitchen_02.jpg")), f"k{number}.jpg") for number in range(3)]
    response = api_client.post("/api/v1/images/upload", data={"file": files})
    assert response.status_code == 400
    assert "one photo per request" in message(response) and "3 files" in message(response)
    assert db.session.scalar(sa.select(sa.func.count(Image.id))) == 0


def test_api_upload_without_a_filename_says_so(api_client):
    response = api_client.post("/api/v1/images/upload", data={"file": (io.BytesIO(photo_bytes("kitchen_02.jpg")), "")})
    assert response.status_code == 400
    assert "without a file name" in message(response)
    missing = api_client.post("/api/v1/images/upload", data={"photo": "x"})
    assert "field named 'file'" in message(missing)


@pytest.mark.parametrize("body", ["garbage", "false", "null", "[]", '"text"', "1"])
def test_retry_and_flow_creation_refuse_bodies_that_are_not_objects(api_client, body):
    for path in ("/api/v1/generations/whatever/retry", "/api/v1/flows"):
        response = json_post(api_client, path, body)
        assert response.status_code == 400, (path, body)
        assert "JSON object body" in message(response)
    assert db.session.scalar(sa.select(sa.func.count(Flow.id))) == 0


def test_flow_creation_without_a_body_still_works(api_client):
    response = api_client.client.post("/api/v1/flows", headers={"X-API-Key": api_client.key})
    assert response.status_code == 201


# 6. Security headers everywhere; no inline script in any template.

def test_security_headers_on_pages_api_static_docs_and_files(app, client, api_client, project):
    image = factories.make_image(project)
    file_url = api_client.get(f"/api/v1/images/{image.id}").get_json()["data"]["url"]
    responses = {
        "page": client.get("/login"), "api": api_client.get("/api/v1/images"), "docs": client.get("/api/docs"),
        "openapi": client.get("/api/openapi.json"), "static": client.get("/static/js/forms.js"),
        "error": client.get("/no-such-page"), "file": client.get(file_url),
    }
    for name, response in responses.items():
        headers = response.headers
        assert headers["X-Content-Type-Options"] == "nosniff", name
        assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin", name
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"], name
        assert "Strict-Transport-Security" not in headers, name  # plain HTTP
    page_csp = responses["page"].headers["Content-Security-Policy"]
    script_src = re.search(r"script-src ([^;]*)", page_csp)[1]
    assert script_src == "'self'"
    file = responses["file"]
    assert file.status_code == 200
    assert file.headers["Content-Disposition"].startswith("attachment")
    assert "sandbox" in file.headers["Content-Security-Policy"]
    assert "default-src 'none'" in file.headers["Content-Security-Policy"]


def test_hsts_only_when_served_over_tls(client):
    response = client.get("/login", base_url="https://localhost")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_templates_have_no_inline_script():
    for path in (ROOT / "templates").rglob("*.html"):
        text = path.read_text()
        for tag in re.findall(r"<script\b[^>]*>", text):
            assert "src=" in tag, f"{path.name}: inline <script> (the CSP forbids it; use a file in static/js)"
        assert not re.search(r"\son[a-z]+\s*=", text), f"{path.name}: inline event handler"
        assert "javascript:" not in text, path.name


# 8. The OpenAPI document agrees with the code.

def test_openapi_documents_402_and_409_where_the_code_answers_them(client):
    paths = client.get("/api/openapi.json").get_json()["paths"]
    create = paths["/api/v1/generations"]["post"]["responses"]
    retry = paths["/api/v1/generations/{generation_id}/retry"]["post"]["responses"]
    live = paths["/api/v1/live"]["get"]["responses"]
    for responses in (create, retry, live):
        assert {"402", "409"} <= set(responses)
    assert "409" in paths["/api/v1/images/upload"]["post"]["responses"]


def test_empty_enum_filters_are_refused(api_client):
    for path, name in (("/api/v1/images?source=", "source"), ("/api/v1/generations?status=", "status")):
        response = api_client.get(path)
        assert response.status_code == 400
        assert f"{name} must be one of" in message(response)


def test_generation_schema_requires_a_prompt_or_a_preset_as_the_code_does(client, api_client, project):
    schema = client.get("/api/openapi.json").get_json()["components"]["schemas"]["GenerationCreate"]
    assert schema["anyOf"] == [{"required": ["prompt"]}, {"required": ["preset"]}]
    image = factories.make_image(project)
    refused = api_client.post("/api/v1/generations", json={"referenceImages": [image.id]})
    assert refused.status_code == 400 and message(refused) == "Prompt is required"
