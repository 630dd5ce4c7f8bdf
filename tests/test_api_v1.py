"""The v1 API: images and aliases, flows, generation lists, retry, delete, rate limits."""
import io

import pytest

from app import create_app
from app.auth.models import ApiKey
from app.catalog.limits import API_STATUSES
from app.config import load_config
from app.extensions import db
from app.generations.models import GenerationStatus
from app.generations.service import API_STATUS_FILTERS
from tests.factories import make_api_key, make_project, make_user, photo_bytes


def upload(api_client, name="kitchen_02.jpg", **fields):
    data = {"file": (io.BytesIO(photo_bytes(name)), name), **fields}
    response = api_client.post("/api/v1/images/upload", data=data)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["data"]


def generate(api_client, **body):
    response = api_client.post("/api/v1/generations", json={"preset": "enhance", **body})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["data"]


def test_upload_with_alias_then_generate_by_alias(api_client, worker):
    image = upload(api_client, alias="@kitchen")
    generation = generate(api_client, referenceImages=["@kitchen"])
    assert [ref["id"] for ref in generation["referenceImages"]] == [image["id"]]
    assert generation["flowId"]  # a generation without flowId starts a new flow


def test_alias_conflict_is_409_alias_already_exists(api_client):
    upload(api_client, alias="@hero")
    response = api_client.post(
        "/api/v1/images/upload", data={"file": (io.BytesIO(photo_bytes("kitchen_02.jpg")), "k.jpg"), "alias": "@hero"}
    )
    assert response.status_code == 409
    assert response.get_json()["error"]["message"] == "Alias already exists"


@pytest.mark.parametrize("alias", ["hero", "@Hero", "@last", "@" + "x" * 70])
def test_malformed_or_reserved_aliases_are_400(api_client, alias):
    image = upload(api_client)
    response = api_client.client.put(
        f"/api/v1/images/{image['id']}/alias", json={"alias": alias}, headers={"X-API-Key": api_client.key}
    )
    assert response.status_code == 400


def test_update_image_alias_focal_point_and_meta_and_remove_alias(api_client):
    image = upload(api_client)
    put = lambda body: api_client.client.put(  # noqa: E731
        f"/api/v1/images/{image['id']}", json=body, headers={"X-API-Key": api_client.key}
    )
    updated = put({"alias": "@front", "focalPoint": {"x": 0.25, "y": 0.75}, "meta": {"room": "kitchen"}})
    data = updated.get_json()["data"]
    assert (data["alias"], data["focalPoint"], data["meta"]) == ("@front", {"x": 0.25, "y": 0.75}, {"room": "kitchen"})
    assert put({"focalPoint": {"x": 2, "y": 0}}).status_code == 400
    assert put({"alias": None}).get_json()["data"]["alias"] is None


def test_resolve_precedence_technical_then_flow_then_project(api_client, worker):
    project_image = upload(api_client, alias="@cover")
    flow = api_client.post("/api/v1/flows", json={}).get_json()["data"]
    flow_image = upload(api_client, "exterior_02.jpg", flowId=flow["id"], flowAlias="@cover")
    resolve = lambda alias, **q: api_client.get(f"/api/v1/images/resolve/{alias}", query_string=q).get_json()["data"]  # noqa: E731
    assert resolve("@cover")["image"]["id"] == project_image["id"]
    in_flow = resolve("@cover", flowId=flow["id"])
    assert (in_flow["image"]["id"], in_flow["scope"]) == (flow_image["id"], "flow")
    assert resolve("@upload", flowId=flow["id"])["scope"] == "technical"
    assert resolve("@upload", flowId=flow["id"])["image"]["id"] == flow_image["id"]
    missing = api_client.get("/api/v1/images/resolve/@nothing")
    assert missing.status_code == 404 and missing.get_json()["error"]["message"] == "Image not found"


def test_flow_chain_with_aliases_counts_and_delete(api_client, worker):
    image = upload(api_client)
    first = generate(api_client, referenceImages=[image["id"]], flowAlias="@step1")
    worker()
    second = generate(api_client, referenceImages=["@step1"], flowId=first["flowId"], alias="@final")
    worker()
    flow = api_client.get(f"/api/v1/flows/{first['flowId']}").get_json()["data"]
    assert flow["generationCount"] == 2 and flow["imageCount"] == 2 and "@step1" in flow["aliases"]
    done = api_client.get(f"/api/v1/generations/{second['id']}").get_json()["data"]
    assert done["outputImage"]["alias"] == "@final"
    assert done["referenceImages"][0]["id"] == flow["aliases"]["@step1"]
    listed = api_client.get(f"/api/v1/flows/{first['flowId']}/generations").get_json()
    assert listed["pagination"]["total"] == 2
    assert api_client.client.delete(f"/api/v1/flows/{first['flowId']}", headers={"X-API-Key": api_client.key}).status_code == 200
    assert api_client.get(f"/api/v1/generations/{second['id']}").status_code == 200  # generations remain
    assert api_client.get(f"/api/v1/flows/{first['flowId']}").get_json()["error"]["message"] == "Flow not found"


def test_flow_aliases_merge_and_must_point_at_project_images(api_client):
    image = upload(api_client)
    flow = api_client.post("/api/v1/flows", json={"aliases": {"@a": image["id"]}}).get_json()["data"]
    put = lambda body: api_client.client.put(  # noqa: E731
        f"/api/v1/flows/{flow['id']}/aliases", json=body, headers={"X-API-Key": api_client.key}
    )
    merged = put({"@b": image["id"]}).get_json()["data"]["aliases"]
    assert merged == {"@a": image["id"], "@b": image["id"]}
    assert put({"@c": "not-an-image"}).status_code == 404
    other_project_image = upload_for_other_project()
    assert put({"@d": other_project_image}).status_code == 404


def upload_for_other_project() -> str:
    from app.images.service import upload_image

    image = upload_image(make_project(make_user()), photo_bytes("kitchen_02.jpg"), "k.jpg")
    db.session.commit()
    return image.id


def test_generation_list_filters_and_paginates(api_client, worker):
    image = upload(api_client)
    ids = [generate(api_client, referenceImages=[image["id"]])["id"] for _ in range(3)]
    worker()
    failed = api_client.post("/api/v1/generations", json={"preset": "declutter", "referenceImages": [image["id"]]})
    assert failed.status_code == 400
    page = api_client.get("/api/v1/generations", query_string={"limit": 2, "status": "success"}).get_json()
    assert page["pagination"] == {"total": 3, "limit": 2, "offset": 0, "hasMore": True}
    assert [g["id"] for g in page["data"]] == ids[::-1][:2]
    assert api_client.get("/api/v1/generations", query_string={"limit": 500}).status_code == 400
    assert api_client.get("/api/v1/generations", query_string={"status": "done"}).status_code == 400


def test_every_status_reads_as_one_of_the_api_words_and_is_found_by_its_filter():
    assert {status.api_word for status in GenerationStatus} == set(API_STATUSES)
    filtered = [status for word in API_STATUSES for status in API_STATUS_FILTERS[word]]
    assert sorted(filtered) == sorted(GenerationStatus)


@pytest.mark.parametrize(("query", "message"), [
    ({"limit": "0"}, "limit must be a whole number from 1 to 100."),
    ({"limit": "ten"}, "limit must be a whole number from 1 to 100."),
    ({"offset": "-1"}, "offset must be a whole number of 0 or more."),
    ({"offset": "9" * 5000}, "offset must be a whole number of 0 or more."),
])
def test_list_with_bad_limit_or_offset_is_400_naming_it(api_client, query, message):
    response = api_client.get("/api/v1/images", query_string=query)
    assert response.status_code == 400
    assert response.get_json()["error"]["message"] == message


def test_retry_runs_again_as_new_linked_generation_with_overrides(api_client, worker):
    image = upload(api_client)
    original = generate(api_client, referenceImages=[image["id"]])
    early = api_client.post(f"/api/v1/generations/{original['id']}/retry")
    assert early.status_code == 409
    worker()
    retry = api_client.post(f"/api/v1/generations/{original['id']}/retry", json={"aspectRatio": "1:1"}).get_json()["data"]
    assert retry["retryOf"] == original["id"] and retry["aspectRatio"] == "1:1"
    assert retry["flowId"] == original["flowId"] and retry["id"] != original["id"]
    worker()
    output = api_client.get(f"/api/v1/generations/{retry['id']}").get_json()["data"]["outputImage"]
    assert output["width"] == output["height"]


def test_delete_generation_soft_then_hard_removes_files(api_client, worker, app):
    image = upload(api_client)
    generation = generate(api_client, referenceImages=[image["id"]])
    worker()
    output_url = api_client.get(f"/api/v1/generations/{generation['id']}").get_json()["data"]["outputImage"]["url"]
    delete = lambda query: api_client.client.delete(  # noqa: E731
        f"/api/v1/generations/{generation['id']}{query}", headers={"X-API-Key": api_client.key}
    )
    assert delete("").status_code == 200
    assert api_client.get(f"/api/v1/generations/{generation['id']}").status_code == 404
    listed = api_client.get("/api/v1/generations", query_string={"includeDeleted": "true"}).get_json()["data"]
    assert listed[0]["deletedAt"] is not None
    assert app.test_client().get(output_url).status_code == 200  # soft delete keeps the file
    assert delete("?hard=true").status_code == 200  # a soft-deleted generation can still be purged
    assert app.test_client().get(output_url).status_code == 404


def test_delete_image_hard_removes_the_file(api_client, app):
    image = upload(api_client)
    response = api_client.client.delete(f"/api/v1/images/{image['id']}?hard=true", headers={"X-API-Key": api_client.key})
    assert response.status_code == 200
    assert app.test_client().get(image["url"]).status_code == 404


@pytest.fixture
def limited_app(config):
    app = create_app({**config, "RATELIMIT_ENABLED": True})
    with app.app_context():
        yield app


def test_rate_limit_per_key_with_headers_and_retry_after(limited_app):
    key = make_api_key(make_project(make_user()))
    db.session.scalar(db.select(ApiKey)).rate_limit = 2
    db.session.commit()
    client = limited_app.test_client()
    first = client.get("/api/v1/images", headers={"X-API-Key": key})
    assert (first.headers["X-RateLimit-Limit"], first.headers["X-RateLimit-Remaining"]) == ("2", "1")
    assert "X-RateLimit-Reset" in first.headers
    client.get("/api/v1/generations", headers={"X-API-Key": key})  # one budget across endpoints
    limited = client.get("/api/v1/images", headers={"X-API-Key": key})
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) > 0
    assert "Rate limit exceeded" in limited.get_json()["error"]["message"]


def test_technical_aliases_chain_generations_without_a_flow_id(api_client, worker):
    uploaded = upload(api_client)
    first = generate(api_client, referenceImages=["@upload"])
    assert [ref["id"] for ref in first["referenceImages"]] == [uploaded["id"]]
    worker()

    # "Generate, then edit @last": the newest image of the project is the first generation's output.
    output_id = api_client.get(f"/api/v1/generations/{first['id']}").get_json()["data"]["outputImage"]["id"]
    second = generate(api_client, referenceImages=["@last"])
    assert [ref["id"] for ref in second["referenceImages"]] == [output_id]
    # @first is the first *generated* image (the spec), not the upload it was made from.
    assert generate(api_client, referenceImages=["@first"])["referenceImages"][0]["id"] == output_id


def test_technical_aliases_stay_inside_a_flow_the_caller_names(api_client):
    upload(api_client)
    flow_id = api_client.post("/api/v1/flows", json={}).get_json()["data"]["id"]
    response = api_client.post(
        "/api/v1/generations", json={"preset": "enhance", "referenceImages": ["@upload"], "flowId": flow_id}
    )
    assert response.status_code == 404
    assert response.get_json()["error"]["message"] == "Image not found"


def test_image_urls_in_json_are_absolute_on_the_requests_host(api_client):
    image = upload(api_client)
    assert image["url"].startswith("http://localhost/files/projects/")
    assert image["thumbnailUrl"].startswith("http://localhost/files/projects/")
    fetched = api_client.client.get(image["url"].removeprefix("http://localhost"))
    assert fetched.status_code == 200 and fetched.headers["Content-Type"] == "image/jpeg"


def test_public_base_url_is_used_for_urls_in_json(app, api_client):
    app.config["PUBLIC_BASE_URL"] = "https://photos.example.com"
    image = upload(api_client)
    generation = generate(api_client, referenceImages=[image["id"]])
    assert image["url"].startswith("https://photos.example.com/files/projects/")
    assert generation["referenceImages"][0]["thumbnailUrl"].startswith("https://photos.example.com/files/")


@pytest.mark.parametrize("value", ["photos.example.com", "ftp://photos.example.com", "https://x.example.com/?a=1"])
def test_public_base_url_that_is_not_an_http_url_is_a_startup_error(value):
    with pytest.raises(ValueError, match="PUBLIC_BASE_URL"):
        load_config({"PUBLIC_BASE_URL": value})
