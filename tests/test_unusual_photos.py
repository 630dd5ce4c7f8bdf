"""Unusual but valid photos go all the way through; impossible ones are refused at upload with a reason."""
import io

import numpy as np
import pytest
from PIL import Image as PILImage

from app.extensions import db
from app.generations.models import Generation, GenerationStatus


def encoded(image: PILImage.Image, fmt: str) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt)
    return buffer.getvalue()


def gradient(width: int, height: int) -> np.ndarray:
    x = np.linspace(0, 255, width, dtype=np.float32)
    y = np.linspace(0, 255, height, dtype=np.float32)[:, None]
    return (x * 0.6 + y * 0.4).astype(np.uint8)


UNUSUAL = {
    "grayscale.jpg": lambda: encoded(PILImage.fromarray(gradient(400, 300), "L"), "JPEG"),
    "cmyk.jpg": lambda: encoded(PILImage.fromarray(np.dstack([gradient(400, 300)] * 3), "RGB").convert("CMYK"), "JPEG"),
    "sixteen_bit.png": lambda: encoded(PILImage.fromarray(gradient(400, 300).astype(np.uint16) * 257), "PNG"),
    "alpha.png": lambda: encoded(PILImage.fromarray(np.dstack([gradient(400, 300)] * 4), "RGBA"), "PNG"),
    "tiny.png": lambda: encoded(PILImage.new("RGB", (16, 16), (120, 90, 60)), "PNG"),
    "panorama.jpg": lambda: encoded(PILImage.fromarray(np.dstack([gradient(2000, 250)] * 3), "RGB"), "JPEG"),
}


@pytest.mark.parametrize("name", sorted(UNUSUAL))
def test_unusual_photo_uploads_and_enhances(api_client, worker, name):
    upload = api_client.post("/api/v1/images/upload", data={"file": (io.BytesIO(UNUSUAL[name]()), name)})
    assert upload.status_code == 201, upload.get_json()
    image_id = upload.get_json()["data"]["id"]
    created = api_client.post("/api/v1/generations", json={"preset": "enhance", "referenceImages": [image_id]})
    worker()
    generation = db.session.get(Generation, created.get_json()["data"]["id"])
    assert generation.status is GenerationStatus.SUCCEEDED, generation.error_message


def test_extreme_aspect_ratio_is_refused_at_upload_with_reason(api_client):
    strip = encoded(PILImage.new("RGB", (1000, 20), (200, 200, 200)), "PNG")
    response = api_client.post("/api/v1/images/upload", data={"file": (io.BytesIO(strip), "strip.png")})
    assert response.status_code == 400
    assert "aspect ratio" in response.get_json()["error"]["message"]
