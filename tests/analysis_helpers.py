"""Helpers for the analyze API tests: uploads, reading an SSE body, a photo with a phone number on it."""
import io
import json

from PIL import Image, ImageDraw, ImageFont

from tests import factories

PHONE_NUMBER = "Call 555-867-5309"


def upload(api_client, session_id: str, *names: str, photos: dict | None = None) -> list[dict]:
    """Upload fixture photos (or given bytes by name) to a session; the answer's images."""
    files = [(io.BytesIO((photos or {}).get(name) or factories.photo_bytes(name)), name) for name in names]
    response = api_client.post(f"/v1/sessions/{session_id}/uploads", data={"files": files},
                               content_type="multipart/form-data")
    assert response.status_code == 201, response.get_json()
    return response.get_json()["images"]


def open_session(api_client, context: dict | None = None) -> str:
    response = api_client.post("/v1/sessions", json={"context": context or {}})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["sessionId"]


def parse_sse(text: str) -> list[dict]:
    """Events of an SSE body as {id, event, data}; comments and retry lines are kept apart."""
    found = []
    for block in text.split("\n\n"):
        fields = {"comments": []}
        data = []
        for line in block.splitlines():
            if line.startswith(":"):
                fields["comments"].append(line)
            elif line.startswith("data: "):
                data.append(line[6:])
            elif ": " in line:
                key, _, value = line.partition(": ")
                fields[key] = value
        if "event" in fields:
            found.append({"id": fields.get("id"), "event": fields["event"], "data": json.loads("\n".join(data))})
    return found


def photo_with_phone_number(name: str = "living_01.jpg") -> bytes:
    """A fixture photo with an agent's phone number drawn on a sign, as a JPEG."""
    image = Image.open(io.BytesIO(factories.photo_bytes(name))).convert("RGB")
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=max(28, image.width // 24))
    left, top = image.width // 20, image.height // 20
    box = draw.textbbox((left, top), PHONE_NUMBER, font=font)
    draw.rectangle([box[0] - 12, box[1] - 12, box[2] + 12, box[3] + 12], fill="white")
    draw.text((left, top), PHONE_NUMBER, fill="black", font=font)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()
