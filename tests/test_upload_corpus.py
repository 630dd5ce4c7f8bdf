"""The hostile upload corpus: every file a curious or hostile caller might send, through the API and the page.

Each entry is refused with a 4xx and a message a person can act on, or (a polyglot that is a valid
photo) stored and then only ever served as an image download that a browser will not run.
"""
import io
import struct
import zlib

import pytest
import sqlalchemy as sa
from PIL import Image as PILImage

from app.images.models import Image
from app.extensions import db
from tests.factories import photo_bytes


def png_bomb(width: int = 20_000, height: int = 20_000) -> bytes:
    """A valid PNG header declaring 400 megapixels over a few KB of compressed zeros."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = zlib.compress(b"\x00" * (1 + width // 8) * 64)  # a small start of the image data; it never gets decoded
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")


def small_png() -> bytes:
    buffer = io.BytesIO()
    PILImage.new("RGB", (64, 48), "white").save(buffer, "PNG")
    return buffer.getvalue()


def gif() -> bytes:
    buffer = io.BytesIO()
    PILImage.new("RGB", (640, 480), "white").save(buffer, "GIF")
    return buffer.getvalue()


SVG = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script></svg>'
HTML = b"<!doctype html><html><body><script>fetch('/api/v1/images')</script></body></html>"

# name sent, bytes, expected status, words the message must contain
REFUSED = [
    ("bomb.png", png_bomb(), 400, "megapixels"),
    ("zero.jpg", b"", 400, "empty"),
    ("truncated.jpg", photo_bytes("truncated.jpg"), 400, "truncated.jpg"),
    ("not_an_image.png", photo_bytes("not_an_image.png"), 400, "not_an_image.png"),
    ("vector.jpg", SVG, 400, "vector.jpg"),
    ("page.png", HTML, 400, "page.png"),
    ("page.html", HTML, 400, "page.html"),
    ("anim.gif", gif(), 400, "anim.gif"),
    ("too_large.png", photo_bytes("too_large.png"), 413, "limit"),
    ("header-only.jpg", photo_bytes("kitchen_02.jpg")[:200], 400, "header-only.jpg"),
]


@pytest.mark.parametrize("name, data, status, words", REFUSED, ids=[entry[0] for entry in REFUSED])
def test_api_refuses_hostile_files_with_a_message(api_client, name, data, status, words):
    response = api_client.post("/api/v1/images/upload", data={"file": (io.BytesIO(data), name)})
    assert response.status_code == status, response.get_json()
    assert words.lower() in response.get_json()["error"]["message"].lower()
    assert db.session.scalar(sa.select(sa.func.count(Image.id))) == 0


def test_page_upload_stores_the_good_photo_and_names_each_bad_one(logged_in, project):
    files = [(io.BytesIO(data), name) for name, data, status, _ in REFUSED if status == 400]
    files.append((io.BytesIO(photo_bytes("kitchen_02.jpg")), "good.jpg"))
    response = logged_in.post(f"/projects/{project.id}/images", data={"photos": files}, follow_redirects=True)
    assert response.status_code == 200
    assert db.session.scalar(sa.select(sa.func.count(Image.id))) == 1
    page = response.get_data(as_text=True)
    for name, _, status, _ in REFUSED:
        if status == 400 and name != "zero.jpg":
            assert name in page, name


@pytest.mark.parametrize("tail", [HTML, SVG, b"PK\x03\x04" + b"\x00" * 26 + b"evil.js"])
def test_a_photo_with_something_appended_is_only_ever_served_as_an_inert_download(api_client, client, tail):
    polyglot = photo_bytes("kitchen_02.jpg") + tail
    response = api_client.post("/api/v1/images/upload", data={"file": (io.BytesIO(polyglot), "<b>poly</b>.jpg")})
    assert response.status_code == 201
    served = client.get(response.get_json()["data"]["url"])
    assert served.status_code == 200
    assert served.mimetype == "image/jpeg"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert served.headers["Content-Disposition"].startswith("attachment")
    assert "sandbox" in served.headers["Content-Security-Policy"]


def test_a_hostile_filename_is_shown_escaped(api_client, logged_in):
    name = '<img src=x onerror=alert(1)>.jpg'
    response = api_client.post("/api/v1/images/upload", data={"file": (io.BytesIO(photo_bytes("kitchen_02.jpg")), name)})
    assert response.status_code == 201
    page = logged_in.get(f"/images/{response.get_json()['data']['id']}")
    assert b"<img src=x onerror" not in page.data


def test_a_valid_small_png_is_accepted(api_client):
    response = api_client.post("/api/v1/images/upload", data={"file": (io.BytesIO(small_png()), "tiny.png")})
    assert response.status_code in (201, 400)  # tiny photos may be refused as too small; never a 500
