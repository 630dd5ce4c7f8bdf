"""The OpenAPI document: valid 3.1, generated from every API route, true to real responses; the body validator."""
import io
import re

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import OpenAPIV31SpecValidator
from openapi_spec_validator import validate as validate_openapi

from app.apidocs.schemas import REQUEST_SCHEMAS, SCHEMAS, validate
from app.apidocs.spec import build_spec
from app.errors import API_PREFIXES, ApiError
from tests.factories import photo_bytes

DOCUMENT_PATHS = {"/api/openapi.json", "/api/docs"}


def routed_operations(app) -> set[tuple[str, str]]:
    """(method, OpenAPI path) for each method of each rule on an API path, read straight from the URL map."""
    operations = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(API_PREFIXES) and rule.rule not in DOCUMENT_PATHS:
            path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
            operations |= {(method.lower(), path) for method in rule.methods - {"HEAD", "OPTIONS"}}
    return operations


def documented_operations(spec: dict) -> set[tuple[str, str]]:
    return {(method, path) for path, item in spec["paths"].items() for method in item}


def matches_schema(spec: dict, schema_name: str, instance) -> list[str]:
    """The errors of `instance` against one of the document's component schemas."""
    root = {"$ref": f"#/components/schemas/{schema_name}", "components": spec["components"]}
    return [error.message for error in Draft202012Validator(root).iter_errors(instance)]


def test_document_is_public_and_valid_openapi_3_1(client):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    spec = response.get_json()
    assert spec["openapi"] == "3.1.0"
    validate_openapi(spec, cls=OpenAPIV31SpecValidator)


def test_every_api_route_appears_with_each_of_its_methods(app):
    spec = build_spec(app)
    routed = routed_operations(app)
    assert ("post", "/api/v1/generations") in routed
    assert routed - documented_operations(spec) == set()
    assert documented_operations(spec) - routed == set()


def test_a_route_added_later_is_documented_with_generic_schemas(app):
    app.add_url_rule("/v1/widgets/<id:widget_id>", "widgets.api_touch", lambda widget_id: "", methods=["GET", "POST"])
    spec = build_spec(app)
    item = spec["paths"]["/v1/widgets/{widget_id}"]
    assert set(item) == {"get", "post"}
    assert {item["get"]["operationId"], item["post"]["operationId"]} == {"widgets.api_touch", "widgets.api_touch.post"}
    assert item["get"]["parameters"][0]["schema"]["type"] == "integer"
    assert item["post"]["requestBody"]["content"]["application/json"]["schema"] == {"type": "object"}
    assert item["get"]["tags"] == ["widgets"] and item["get"]["summary"] == "Touch (widgets)"
    validate_openapi(spec, cls=OpenAPIV31SpecValidator)


def test_registered_endpoints_carry_their_bodies_security_and_errors(app):
    paths = build_spec(app)["paths"]
    create = paths["/api/v1/generations"]["post"]
    assert create["operationId"] == "generations.api_create"
    assert create["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/GenerationCreate")
    assert create["responses"]["201"]["content"]["application/json"]["schema"]["$ref"].endswith("/GenerationResponse")
    assert {"400", "401", "404", "429"} <= set(create["responses"])
    assert {"ApiKeyHeader": []} in create["security"] and {"BearerAuth": []} in create["security"]
    assert any(parameter["name"] == "Idempotency-Key" for parameter in create["parameters"])
    upload = paths["/api/v1/images/upload"]["post"]
    form = upload["requestBody"]["content"]["multipart/form-data"]["schema"]["$ref"].rsplit("/", 1)[-1]
    assert SCHEMAS[form]["required"] == ["file"]
    assert "409" in paths["/api/v1/generations/{generation_id}/cancel"]["post"]["responses"]


def test_real_responses_match_the_documented_schemas(app, api_client):
    spec = build_spec(app)
    upload = api_client.post("/api/v1/images/upload", data={"file": (io.BytesIO(photo_bytes("kitchen_02.jpg")), "k.jpg")})
    assert upload.status_code == 201
    image_id = upload.get_json()["data"]["id"]
    created = api_client.post("/api/v1/generations", json={"preset": "enhance", "referenceImages": [image_id]})
    assert created.status_code == 201
    missing = api_client.get("/api/v1/images/no-such-image")
    assert missing.status_code == 404
    assert matches_schema(spec, "ImageResponse", upload.get_json()) == []
    assert matches_schema(spec, "GenerationResponse", created.get_json()) == []
    assert matches_schema(spec, "Error", missing.get_json()) == []
    flow = api_client.post("/api/v1/flows", json={"meta": {"listing": "12 Elm"}})
    assert flow.status_code == 201 and matches_schema(spec, "FlowResponse", flow.get_json()) == []
    for path, schema_name in [("/api/v1/images", "ImageListResponse"), ("/api/v1/generations", "GenerationListResponse")]:
        listed = api_client.get(path)
        assert listed.status_code == 200 and matches_schema(spec, schema_name, listed.get_json()) == []
    resolved = api_client.get("/api/v1/images/resolve/@upload")  # nothing generated yet: @last would be 404
    assert resolved.status_code == 200 and matches_schema(spec, "AliasResolutionResponse", resolved.get_json()) == []


def test_docs_page_lists_every_operation_with_a_curl_example(client, app):
    response = client.get("/api/docs")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "/api/v1/generations" in page and "GenerationCreate" in page and "curl -X POST" in page
    for _method, path in documented_operations(build_spec(app)):
        assert path in page, path
    assert "cdn" not in page.lower() and "swagger" not in page.lower()


@pytest.mark.parametrize(
    ("schema_name", "body", "message"),
    [
        ("GenerationCreate", {"prompt": "A loft", "aspectRatio": 16}, "aspectRatio must be a string"),
        ("GenerationCreate", {"prompt": "A loft", "resolution": "8K"}, "Invalid resolution '8K'; use one of: 1K, 2K, 4K."),
        ("GenerationCreate", {"prompt": "A loft", "numImages": 5}, "numImages must be a whole number from 1 to 4."),
        ("GenerationCreate", {"prompt": "A loft", "numImages": True}, "numImages must be a whole number from 1 to 4."),
        ("GenerationCreate", {"prompt": "x" * 4001}, "prompt must be at most 4000 characters"),
        ("GenerationCreate", {"referenceImages": ["@a", 7]}, "referenceImages[1] must be a string"),
        ("ImageUpdate", {"focalPoint": {"x": 2, "y": 0.5}}, "focalPoint.x must be from 0 to 1"),
        ("ImageUpdate", {"focalPoint": {"x": 0.5}}, "focalPoint.y is required"),
        ("ImageUpdate", {"focalPoint": {"x": 0.5, "y": 0.5, "z": 1}}, "Unknown field focalPoint.z; allowed: x, y."),
        ("ImageUpdate", {"focalPoint": "middle"}, "focalPoint must be an object {x, y} with numbers from 0 to 1."),
        ("ImageAlias", {}, 'Send {"alias": "@name"}, or null to remove the alias.'),
        ("FlowAliases", {"@hero": 3}, "Each flow alias must map to an image id (a string)."),
        ("FlowCreate", {"aliases": {"@hero": None}}, "Each flow alias must map to an image id (a string)."),
        ("GenerationRetry", ["not", "an", "object"], "Send a JSON object body with Content-Type: application/json."),
    ],
)
def test_validator_refuses_bad_bodies_with_a_400_naming_the_field(schema_name, body, message):
    with pytest.raises(ApiError) as refused:
        validate(schema_name, body)
    assert refused.value.status == 400 and refused.value.code == "invalid_request"
    assert refused.value.message == message


def test_required_message_comes_from_the_property(monkeypatch):
    prompt = REQUEST_SCHEMAS["GenerationCreate"]["properties"]["prompt"]
    schema = {"type": "object", "required": ["prompt"], "properties": {"prompt": prompt}}
    monkeypatch.setitem(SCHEMAS, "PromptFirst", schema)
    with pytest.raises(ApiError, match="^Prompt is required$"):
        validate("PromptFirst", {"preset": "enhance"})


@pytest.mark.parametrize(
    ("schema_name", "body"),
    [
        ("GenerationCreate", {"prompt": "A loft", "aspectRatio": "16:9", "numImages": 2, "watermark": True, "priority": 3}),
        ("GenerationCreate", {"preset": "enhance", "aspectRatio": None, "watermark": "Staged", "assignAlias": "@x"}),
        ("ImageUpdate", {"alias": None, "focalPoint": {"x": 0, "y": 1}, "meta": {"room": "kitchen"}}),
        ("ImageUpdate", {"focalPoint": None}),
        ("ImageAlias", {"alias": None}),
        ("FlowCreate", {}),
    ],
)
def test_validator_returns_a_good_body_unchanged(schema_name, body):
    assert validate(schema_name, body) is body


@pytest.mark.parametrize("schema_name", sorted(name for name, schema in REQUEST_SCHEMAS.items() if "examples" in schema))
def test_documented_examples_pass_the_validator(schema_name):
    for example in REQUEST_SCHEMAS[schema_name]["examples"]:
        validate(schema_name, example)


def response_schema(spec: dict, path: str, method: str, status: int, media: str = "application/json") -> dict:
    """The schema of one documented answer, with a response $ref followed."""
    response = spec["paths"][path][method]["responses"][str(status)]
    if "$ref" in response:
        response = spec["components"]["responses"][response["$ref"].rsplit("/", 1)[-1]]
    return response["content"][media]["schema"]


def schema_name(schema: dict) -> str:
    return schema["$ref"].rsplit("/", 1)[-1]


def test_each_surface_is_documented_with_its_own_security_and_shapes(app):
    spec = build_spec(app)
    schemes = spec["components"]["securitySchemes"]
    assert schemes["FalKey"] == {**schemes["FalKey"], "type": "apiKey", "in": "header", "name": "Authorization"}
    status = "/fal/queue/{app_id}/requests/{request_id}/status"
    assert {"FalKey": []} in spec["paths"][status]["get"]["security"]
    assert schema_name(response_schema(spec, status, "get", 202)) == "FalStatus"
    assert schema_name(response_schema(spec, status, "get", 404)) == "FalError"
    assert schema_name(response_schema(spec, "/fal/queue/{app_id}", "post", 422)) == "FalError"
    assert set(spec["paths"]["/api/v1/nanobanana/generate"]["post"]["responses"]) == {"200"}  # errors ride in the body
    assert schema_name(response_schema(spec, "/api/v1/common/credit", "get", 200)) == "NanoBananaAnswer"
    process = spec["paths"]["/api/process-image"]["post"]
    assert {"SessionCookie": []} in process["security"]
    assert schema_name(response_schema(spec, "/api/process-image", "post", 500)) == "ProcessImageFailed"
    assert schema_name(response_schema(spec, "/api/process-image", "post", 200)) == "ProcessImageAnswer"
    assert "202" not in process["responses"]  # a slow edit is held, never answered "still processing"
    assert schema_name(response_schema(spec, "/api/image-generations", "post", 400)) == "ProcessImageError"
    analyze = "/v1/sessions/{session_id}/analyze"
    assert response_schema(spec, analyze, "post", 200, "text/event-stream")["type"] == "string"
    assert schema_name(response_schema(spec, analyze, "post", 402)) == "AnalysisShortOfCredits"
    assert schema_name(response_schema(spec, "/v1/sessions", "post", 201)) == "AnalysisSession"
    callback = spec["paths"]["/webhooks/nanobanana"]["post"]
    assert callback["security"] == [] and "401" not in callback["responses"]
    assert callback["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("NanoBananaCallback")
    assert schema_name(response_schema(spec, "/api/v1/images", "get", 200)) == "ImageListResponse"  # native: enveloped


def test_real_answers_of_each_surface_match_their_documented_schemas(app, api_client, client):
    spec = build_spec(app)
    answers = [
        (api_client.get("/fal/queue/fal-ai/x/requests/nope/status"), 404, "FalError"),
        (api_client.post("/fal/queue/fal-ai/nano-banana"), 422, "FalError"),
        (api_client.get("/api/v1/common/credit"), 200, "NanoBananaAnswer"),
        (api_client.get("/api/v1/nanobanana/record-info"), 200, "NanoBananaAnswer"),
        (api_client.get("/api/image-generations"), 200, "ProcessImageRecordPage"),
        (api_client.get("/api/image-generations/nope"), 404, "ProcessImageError"),
        (client.get("/api/image-generations"), 401, "ProcessImageError"),
        (api_client.post("/v1/sessions", json={}), 201, "AnalysisSession"),
        (client.post("/webhooks/nanobanana", json={}), 400, "Error"),
    ]
    for response, status, name in answers:
        assert response.status_code == status, (response.request.path, response.get_data(as_text=True))
        assert matches_schema(spec, name, response.get_json()) == [], response.request.path
    assert api_client.get("/api/v1/nanobanana/record-info").get_json()["code"] == 400


def test_process_image_answers_framework_errors_in_its_own_shape(app, api_client):
    """413 (and 429, 503) come from app-level handlers; the surface's clients still read {success, error, code}."""
    app.config["MAX_CONTENT_LENGTH"] = 1024
    response = api_client.post("/api/image-generations", data={"image": (io.BytesIO(b"x" * 4096), "big.jpg")})
    assert response.status_code == 413
    assert matches_schema(build_spec(app), "ProcessImageError", response.get_json()) == []
