"""The OpenAPI document as JSON, and the same document as a readable reference page."""
import json
import re
from urllib.parse import quote_plus

from flask import Blueprint, current_app, render_template, request

from app.apidocs.spec import build_spec

bp = Blueprint("apidocs", __name__)

PATH_PARAMETER = re.compile(r"{(\w+)}")


@bp.get("/api/openapi.json")
def openapi_document():
    """The OpenAPI 3.1 document of the JSON API, built from the routes the app has now."""
    # Serialized in the document's own key order (openapi, info, ... paths), which jsonify would sort.
    document = json.dumps(build_spec(current_app, server_url=_base_url()), ensure_ascii=False)
    return current_app.response_class(document, mimetype="application/json")


@bp.get("/api/docs")
def reference():
    """Every API operation grouped by tag, with its parameters, body fields and a curl example."""
    spec = build_spec(current_app, server_url=_base_url())
    return render_template("apidocs/docs.html", spec=spec, sections=reference_sections(spec, _base_url()))


def _base_url() -> str:
    return request.url_root.rstrip("/")


def reference_sections(spec: dict, base_url: str) -> list[dict]:
    """The document's operations as tag sections, each operation flattened for the template."""
    sections = {tag["name"]: {**tag, "operations": []} for tag in spec["tags"]}
    schemas = spec["components"]["schemas"]
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            body = _request_body(operation, schemas)
            sections[operation["tags"][0]]["operations"].append({
                "id": operation["operationId"],
                "method": method.upper(),
                "path": path,
                "summary": operation["summary"],
                "description": operation.get("description", ""),
                "parameters": operation["parameters"],
                "body": body,
                "responses": {status: _response_text(reply, spec) for status, reply in operation["responses"].items()},
                "auth": _auth_text(operation["security"]),
                "curl": curl_example(base_url, method.upper(), path, operation, body),
            })
    return list(sections.values())


def _request_body(operation: dict, schemas: dict) -> dict | None:
    """The body's media type, its schema's name and description, one row per field and an example."""
    if "requestBody" not in operation:
        return None
    media, content = next(iter(operation["requestBody"]["content"].items()))
    name = content["schema"].get("$ref", "").rsplit("/", 1)[-1]
    schema = schemas.get(name, content["schema"])
    fields = [_field_row(field, property_schema, field in schema.get("required", []))
              for field, property_schema in schema.get("properties", {}).items()]
    if isinstance(schema.get("additionalProperties"), dict):
        fields.append(_field_row("<any name>", schema["additionalProperties"], False))
    example = (schema.get("examples") or [{}])[0]
    return {
        "media": media, "name": name, "description": schema.get("description", ""), "fields": fields,
        "example": example, "required": operation["requestBody"]["required"],
    }


def _field_row(name: str, schema: dict, required: bool) -> dict:
    notes = [schema.get("description", "")]
    if "enum" in schema:
        notes.append("One of " + ", ".join(str(choice) for choice in schema["enum"] if choice is not None) + ".")
    if "minimum" in schema or "maximum" in schema:
        notes.append(f"From {schema.get('minimum', '…')} to {schema.get('maximum', '…')}.")
    if "maxLength" in schema:
        notes.append(f"At most {schema['maxLength']} characters.")
    if "default" in schema:
        notes.append(f"Default {json.dumps(schema['default'])}.")
    if schema.get("deprecated"):
        notes.append("Deprecated.")
    return {"name": name, "type": type_text(schema), "required": required, "notes": " ".join(n for n in notes if n)}


def type_text(schema: dict) -> str:
    """A short type for a person: 'string | null', 'array of string', 'FlowAliases'."""
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    kinds = schema.get("type", "any")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    item = type_text(schema["items"]) if "items" in schema else None
    return " | ".join(f"array of {item}" if kind == "array" and item else kind for kind in kinds)


def _auth_text(security: list) -> str:
    if not security:
        return "Public"
    return "API key or a signed URL" if {} in security else "API key"


def _response_text(response: dict, spec: dict) -> str:
    if "$ref" in response:
        response = spec["components"]["responses"][response["$ref"].rsplit("/", 1)[-1]]
    schema = response.get("content", {}).get("application/json", {}).get("schema", {})
    name = schema.get("$ref", "").rsplit("/", 1)[-1]
    media = ", ".join(response.get("content", {}))
    return f"{response['description']} ({name or media})" if name or media else response["description"]


def curl_example(base_url: str, method: str, path: str, operation: dict, body: dict | None) -> str:
    """A curl command for the operation, with shell variables for ids and the API key."""
    url = base_url + PATH_PARAMETER.sub(lambda match: "$" + match[1].upper(), path)
    required_query = {
        p["name"]: (p["schema"].get("examples") or ["..."])[0]
        for p in operation["parameters"] if p["in"] == "query" and p["required"]
    }
    if required_query:
        url += "?" + "&".join(f"{name}={quote_plus(example)}" for name, example in required_query.items())
    parts = [f'curl "{url}"' if method == "GET" else f'curl -X {method} "{url}"']
    if operation["security"]:
        parts.append('-H "X-API-Key: $STAGECRAFT_API_KEY"')
    if body and body["media"] == "multipart/form-data":
        parts.append('-F "file=@photo.jpg"')
    elif body:
        payload = json.dumps(body["example"]).replace("'", "'\\''")
        parts += ['-H "Content-Type: application/json"', f"-d '{payload}'"]
    return " \\\n  ".join(parts)
