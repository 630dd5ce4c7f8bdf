"""Live URLs: generated once by a real worker, cached, signed for public pages, limited by origin and budget."""
import hashlib
import html
import io
import re
import threading
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import sqlalchemy as sa
from PIL import Image as PILImage

from app.extensions import db
from app.generations import lifecycle
from app.generations.models import Generation, GenerationStatus
from app.live import service
from app.live.models import LiveEntry
from app.providers import registry
from tests import factories
from tests.processes import start_worker, stop_tree, wait_for
from tests.upstreams import gemini as gemini_module
from tests.upstreams.gemini import GeminiUpstream


@pytest.fixture(scope="module")
def gemini():
    """Live URLs make images from a prompt alone, which needs an AI service: Gemini's stand-in, shared by the module."""
    upstream = GeminiUpstream().start()
    yield upstream
    upstream.stop()


@pytest.fixture
def config(config, gemini):
    """The test's configuration with Gemini connected (its stand-in on 127.0.0.1)."""
    return {**config, "GEMINI_API_KEY": gemini_module.API_KEY, "GEMINI_BASE_URL": gemini.base_url}


@pytest.fixture
def live_worker(config):
    """A real forking RQ worker for the test's database and Redis (Gemini connected); stopped after the test."""
    process = start_worker(config, GEMINI_API_KEY=config["GEMINI_API_KEY"], GEMINI_BASE_URL=config["GEMINI_BASE_URL"])
    yield process  # pytest runs the rest even when the test fails
    stop_tree(process)


def signed_url(app, project, prompt, **params) -> str:
    with app.test_request_context():
        return service.signed_live_url(project, prompt, **params)


def with_query(url: str, **changes) -> str:
    parts = urlsplit(url)
    query = {name: values[0] for name, values in parse_qs(parts.query).items()}
    return f"{parts.path}?{urlencode({**query, **changes})}"


def generation_count(project_id: int) -> int:
    db.session.rollback()
    return db.session.scalar(sa.select(sa.func.count(Generation.id)).where(Generation.project_id == project_id))


def test_miss_then_hit_returns_the_same_bytes_with_cache_headers(api_client, project, live_worker):
    miss = api_client.get("/api/v1/live", query_string={"prompt": "Sunny kitchen", "aspectRatio": "16:9"})
    assert miss.status_code == 200, miss.get_data(as_text=True)
    assert miss.headers["Content-Type"] == "image/jpeg"
    assert miss.headers["X-Cache-Status"] == "MISS"
    assert miss.headers["Cache-Control"] == "public, max-age=31536000"
    assert miss.headers["ETag"] == f'"{hashlib.sha256(miss.data).hexdigest()}"'
    assert miss.headers["X-Generation-Id"] and miss.headers["X-Image-Id"]
    assert PILImage.open(io.BytesIO(miss.data)).size == (1344, 756)  # Gemini's 1344×768, cropped to exactly 16:9

    # The same prompt and ratio, written differently, is the same cache entry.
    hit = api_client.get("/api/v1/live", query_string={"prompt": "  Sunny kitchen ", "aspectRatio": "32:18"})
    assert hit.status_code == 200
    assert hit.headers["X-Cache-Status"] == "HIT"
    assert hit.headers["X-Cache-Hit-Count"] == "1"
    assert hit.headers["X-Image-Id"] == miss.headers["X-Image-Id"]
    assert "X-Generation-Id" not in hit.headers
    assert hit.data == miss.data
    assert api_client.get("/api/v1/live?prompt=Sunny+kitchen&aspectRatio=16:9").headers["X-Cache-Hit-Count"] == "2"

    generation = db.session.get(Generation, miss.headers["X-Generation-Id"])
    assert generation_count(project.id) == 1
    assert not generation.is_placeholder and (generation.kind, generation.provider) == ("text_to_image", "gemini")
    entry = db.session.scalar(sa.select(LiveEntry).where(LiveEntry.project_id == project.id))
    assert (entry.image_id, entry.hit_count) == (miss.headers["X-Image-Id"], 2)


def test_a_demo_placeholder_is_never_cached_nor_kept_by_browsers(app, api_client, project, live_worker):
    app.config.update(GEMINI_API_KEY="", ALLOW_PLACEHOLDERS=True)  # no AI service; the operator allows placeholders
    registry.configure(app)
    first = api_client.get("/api/v1/live", query_string={"prompt": "Sunny kitchen", "aspectRatio": "16:10"})
    assert first.status_code == 200, first.get_data(as_text=True)
    assert first.headers["Cache-Control"] == "no-store" and first.headers["X-Placeholder"] == "true"
    again = api_client.get("/api/v1/live", query_string={"prompt": "Sunny kitchen", "aspectRatio": "16:10"})
    assert again.headers["X-Cache-Status"] == "MISS"  # made again: a placeholder is not the image asked for
    assert db.session.scalar(sa.select(sa.func.count(LiveEntry.id))) == 0


def test_without_an_ai_service_a_live_url_is_refused_not_a_placeholder(app, api_client, project):
    app.config["GEMINI_API_KEY"] = ""
    registry.configure(app)
    refused = api_client.get("/api/v1/live", query_string={"prompt": "Sunny kitchen", "aspectRatio": "16:10"})
    assert refused.status_code == 400 and "needs an AI image service" in refused.get_json()["error"]["message"]
    assert generation_count(project.id) == 0


def test_matching_if_none_match_returns_304_without_a_body(api_client, live_worker):
    first = api_client.get("/api/v1/live?prompt=Twilight+facade")
    assert first.status_code == 200
    etag = first.headers["ETag"]

    for header in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        again = api_client.get("/api/v1/live?prompt=Twilight+facade", headers={"If-None-Match": header})
        assert again.status_code == 304, header
        assert again.data == b""
        assert again.headers["ETag"] == etag
        assert again.headers["X-Cache-Status"] == "HIT"
    stale = api_client.get("/api/v1/live?prompt=Twilight+facade", headers={"If-None-Match": '"other"'})
    assert stale.status_code == 200 and stale.data == first.data


def test_signed_url_works_without_an_api_key(app, client, project, live_worker):
    url = signed_url(app, project, "Garden at dusk", aspect_ratio="3:2", resolution="1k")
    assert "project=" in url and "sig=" in url and url.startswith("http://localhost/api/v1/live?")

    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["X-Cache-Status"] == "MISS"
    assert "X-API-Key" not in response.headers.get("Vary", "")
    assert PILImage.open(io.BytesIO(response.data)).size == (1248, 832)  # Gemini's 3:2 at 1K
    assert client.get(url).headers["X-Cache-Status"] == "HIT"


def test_tampered_or_missing_signature_is_401(app, client, project, user):
    url = signed_url(app, project, "Garden at dusk")
    other_project = factories.make_project(user, "3 Elm Street")
    cases = {
        "tampered prompt": with_query(url, prompt="Garden at noon"),
        "tampered sig": with_query(url, sig="0" * 64),
        "non-ascii sig": with_query(url, sig="é" * 64),
        "other project": with_query(url, project=str(other_project.id)),
        "unknown project": with_query(url, project="999999"),
        "bad project id": with_query(url, project="²"),
    }
    for name, tampered in cases.items():
        response = client.get(tampered)
        assert response.status_code == 401, name
        assert "Invalid live URL signature" in response.get_json()["error"]["message"], name

    unsigned = client.get("/api/v1/live?prompt=Garden+at+dusk")
    assert unsigned.status_code == 401
    assert unsigned.get_json()["success"] is False and unsigned.get_json()["error"]["code"] == "unauthorized"
    assert "signed live URL" in unsigned.get_json()["error"]["message"]
    assert generation_count(project.id) == 0


def test_invalid_parameters_are_400_not_500(api_client):
    cases = {
        "": "Prompt is required",
        "prompt=+++": "Prompt is required",
        "prompt=Hall&aspectRatio=wide": "Invalid aspect ratio",
        "prompt=Hall&aspectRatio=50:1": "Invalid aspect ratio",
        "prompt=Hall&resolution=8K": "Invalid resolution",
        f"prompt={'x' * 4001}": "Prompt is too long",
    }
    for query, message in cases.items():
        response = api_client.get(f"/api/v1/live?{query}")
        assert response.status_code == 400, query
        assert response.get_json()["success"] is False
        assert response.get_json()["error"]["message"].startswith(message), query


def test_allowed_origins_limit_which_pages_may_load_signed_urls(app, logged_in, project, live_worker):
    saved = logged_in.post(
        f"/projects/{project.id}/live/settings",
        data={"allowed_origins": "https://www.example.com/listings\n\n*.Example.org\nwww.example.com", "miss_budget": "100"},
    )
    assert saved.status_code == 302
    db.session.refresh(project)
    assert project.allowed_origins == ["www.example.com", "*.example.org"]

    public, url = app.test_client(), signed_url(app, project, "Pool with deck chairs")
    allowed = public.get(url, headers={"Referer": "https://www.example.com/listings/12"})
    assert allowed.status_code == 200 and allowed.headers["X-Cache-Status"] == "MISS"
    assert public.get(url, headers={"Origin": "https://img.example.org"}).status_code == 200
    assert public.get(url).status_code == 200  # no Origin or Referer: served (see check_origin)

    refused = public.get(url, headers={"Origin": "https://evil.example"})
    assert refused.status_code == 403
    assert "https://evil.example" in refused.get_json()["error"]["message"]
    by_referer = public.get(url, headers={"Origin": "null", "Referer": "http://example.org.evil.example/page"})
    assert by_referer.status_code == 403
    assert "http://example.org.evil.example" in by_referer.get_json()["error"]["message"]
    assert public.get(url, headers={"Referer": "http://[broken/page"}).status_code == 403

    # Origins limit signed URLs in browsers; an API key is a server's own credential.
    key = factories.make_api_key(project)
    keyed = public.get(with_query(url), headers={"X-API-Key": key, "Origin": "https://evil.example"})
    assert keyed.status_code == 200 and keyed.headers["X-Cache-Status"] == "HIT"
    assert "X-API-Key" in keyed.headers["Vary"]


def test_invalid_live_settings_are_refused_with_a_message(logged_in, project):
    bad_host = logged_in.post(
        f"/projects/{project.id}/live/settings", data={"allowed_origins": "a.com\nhttp://[x", "miss_budget": "5"}
    )
    assert bad_host.status_code == 400
    assert "is not a host or origin" in html.unescape(bad_host.get_data(as_text=True))
    bad_budget = logged_in.post(f"/projects/{project.id}/live/settings", data={"allowed_origins": "", "miss_budget": "-1"})
    assert bad_budget.status_code == 400
    assert "miss budget must be a whole number" in bad_budget.get_data(as_text=True)
    db.session.refresh(project)
    assert (project.allowed_origins, project.live_miss_budget) == ([], 100)


def test_miss_budget_refuses_new_images_with_429_but_serves_hits(api_client, project, live_worker):
    project.live_miss_budget = 1
    db.session.commit()
    assert api_client.get("/api/v1/live?prompt=Loft").headers["X-Cache-Status"] == "MISS"
    assert api_client.get("/api/v1/live?prompt=Loft").headers["X-Cache-Status"] == "HIT"

    refused = api_client.get("/api/v1/live?prompt=Basement")
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 3600
    assert refused.get_json()["error"]["code"] == "rate_limited"
    assert "1 new images for this hour" in refused.get_json()["error"]["message"]
    assert api_client.get("/api/v1/live?prompt=Loft").headers["X-Cache-Status"] == "HIT"
    assert generation_count(project.id) == 1
    assert service.misses_this_hour(project) == 1


def test_concurrent_identical_misses_generate_once(app, project, live_worker):
    url, count = signed_url(app, project, "Open-plan living room", aspect_ratio="4:3"), 6
    barrier, responses = threading.Barrier(count), []

    def fetch():
        client = app.test_client()
        barrier.wait()
        response = client.get(url)
        responses.append((response.status_code, response.headers.get("X-Image-Id"), response.data))

    threads = [threading.Thread(target=fetch) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert [status for status, _, _ in responses] == [200] * count
    assert len({image_id for _, image_id, _ in responses}) == 1
    assert len({data for _, _, data in responses}) == 1
    assert generation_count(project.id) == 1
    assert db.session.scalar(sa.select(sa.func.count(LiveEntry.id))) == 1


def test_failed_generation_is_502_and_not_cached_and_a_slow_one_is_504(app, project):
    url, responses = signed_url(app, project, "Wine cellar"), []
    thread = threading.Thread(target=lambda: responses.append(app.test_client().get(url)))
    thread.start()  # no worker runs: the generation stays queued until failed below
    generation = wait_for(lambda: db.session.scalar(sa.select(Generation)), message="the generation row")
    assert lifecycle.fail_generation(generation, "provider_error", "The provider is unavailable.")
    db.session.commit()  # which tells the waiting request
    thread.join(30)

    assert responses[0].status_code == 502
    assert responses[0].get_json()["error"]["message"] == "The image could not be generated: The provider is unavailable."
    assert db.session.scalar(sa.select(sa.func.count(LiveEntry.id))) == 0

    app.config["LIVE_WAIT_SECONDS"] = 1
    slow = app.test_client().get(url)
    assert slow.status_code == 504
    assert "still being generated" in slow.get_json()["error"]["message"]
    assert generation_count(project.id) == 2  # the failed one was not reused
    statuses = db.session.scalars(sa.select(Generation.status).order_by(Generation.created_at))
    assert list(statuses) == [GenerationStatus.FAILED, GenerationStatus.QUEUED]


def test_rotating_the_secret_invalidates_old_urls(app, logged_in, project):
    old_url = signed_url(app, project, "Attic bedroom")
    rotated = logged_in.post(f"/projects/{project.id}/live/rotate")
    assert rotated.status_code == 302
    db.session.refresh(project)
    new_url = signed_url(app, project, "Attic bedroom")

    assert new_url != old_url
    response = app.test_client().get(old_url)
    assert response.status_code == 401
    assert "rotated" in response.get_json()["error"]["message"]


def test_builder_page_renders_a_signed_url_that_works(app, logged_in, project, live_worker):
    page = logged_in.get(f"/projects/{project.id}/live")
    body = page.get_data(as_text=True)
    assert page.status_code == 200
    assert body.count('name="csrf_token"') >= 4  # builder, settings, rotate, log out
    assert 'name="allowed_origins"' in body and 'value="100"' in body

    fragment = logged_in.post(
        f"/projects/{project.id}/live/url",
        data={"prompt": "Cosy reading nook", "aspect_ratio": "1:1", "resolution": "1K"},
        headers={"HX-Request": "true"},
    )
    assert fragment.status_code == 200
    text = fragment.get_data(as_text=True)
    assert text.lstrip().startswith('<section id="live-url"')
    url = html.unescape(re.search(r'<img src="([^"]+)"', text).group(1))
    image = app.test_client().get(url, headers={"Referer": f"http://localhost/projects/{project.id}/live"})
    assert image.status_code == 200, image.get_data(as_text=True)
    assert PILImage.open(io.BytesIO(image.data)).size == (1024, 1024)

    invalid = logged_in.post(f"/projects/{project.id}/live/url", data={"prompt": " "})
    assert invalid.status_code == 400 and "Prompt is required" in invalid.get_data(as_text=True)


def test_builder_page_of_another_workspace_is_404(logged_in):
    stranger = factories.make_user()
    other = factories.make_project(stranger, "Someone else's house")
    assert logged_in.get(f"/projects/{other.id}/live").status_code == 404
    assert logged_in.post(f"/projects/{other.id}/live/rotate").status_code == 404
