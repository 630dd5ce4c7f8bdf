"""Uploading photos: validation by full decode, EXIF orientation, limits, thumbnails, signed URLs."""
import hashlib
import io

import pytest
from PIL import Image as PILImage

from app.extensions import db
from app.images.models import Image
from tests.factories import photo_bytes


def upload_page(client, project, *names):
    files = [(io.BytesIO(photo_bytes(name)), name) for name in names]
    return client.post(f"/projects/{project.id}/images", data={"photos": files}, headers={"HX-Request": "true"})


def test_upload_from_page_stores_photo_with_metadata_and_thumbnail(logged_in, project, app):
    response = upload_page(logged_in, project, "kitchen_01.jpg")
    assert response.status_code == 200
    assert "Uploaded 1 photo" in response.get_data(as_text=True)
    image = db.session.scalar(db.select(Image).where(Image.project_id == project.id))
    data = photo_bytes("kitchen_01.jpg")
    assert (image.width, image.height, image.mime) == (1280, 853, "image/jpeg")
    assert image.sha256 == hashlib.sha256(data).hexdigest()
    assert image.size_bytes == len(data)
    thumb_url = response.get_data(as_text=True).split('<img src="')[1].split('"')[0].replace("&amp;", "&")
    thumbnail = PILImage.open(io.BytesIO(logged_in.get(thumb_url).data))
    assert max(thumbnail.size) <= 480


def test_multi_upload_keeps_good_photos_and_explains_bad_ones(logged_in, project):
    response = upload_page(logged_in, project, "kitchen_02.jpg", "truncated.jpg", "not_an_image.png", "kitchen_02.webp")
    page = response.get_data(as_text=True)
    assert "Uploaded 2 photos" in page
    assert "truncated.jpg:" in page and "not_an_image.png isn&#39;t a photo we can read" in page
    stored = db.session.scalars(db.select(Image.mime).where(Image.project_id == project.id)).all()
    assert sorted(stored) == ["image/jpeg", "image/webp"]


def test_exif_rotated_photo_gets_upright_dimensions(api_client):
    response = api_client.post(
        "/api/v1/images/upload", data={"file": (io.BytesIO(photo_bytes("exif_rotated_bedroom_01.jpg")), "bed.jpg")}
    )
    assert response.status_code == 201
    body = response.get_json()["data"]
    assert (body["width"], body["height"]) == (1280, 853)


@pytest.mark.parametrize(
    "name, message",
    [("truncated.jpg", "truncated"), ("not_an_image.png", "not_an_image.png isn't a photo we can read — upload a JPEG, PNG, WebP or HEIC photo")],
)
def test_api_upload_rejects_broken_files_with_clear_message(api_client, name, message):
    response = api_client.post("/api/v1/images/upload", data={"file": (io.BytesIO(photo_bytes(name)), name)})
    assert response.status_code == 400
    assert message in response.get_json()["error"]["message"]


def test_api_upload_over_5_mb_is_413_file_too_large(api_client):
    response = api_client.post(
        "/api/v1/images/upload", data={"file": (io.BytesIO(photo_bytes("too_large.png")), "too_large.png")}
    )
    assert response.status_code == 413
    assert response.get_json()["error"]["message"].startswith("File too large")


def test_pixel_cap_is_enforced(api_client, app):
    app.config["MAX_IMAGE_PIXELS"] = 1_000_000
    response = api_client.post(
        "/api/v1/images/upload", data={"file": (io.BytesIO(photo_bytes("kitchen_01.jpg")), "kitchen.jpg")}
    )
    assert response.status_code == 400
    assert "megapixels" in response.get_json()["error"]["message"]


def test_api_upload_without_file_field_says_what_to_send(api_client):
    response = api_client.post("/api/v1/images/upload", data={})
    assert response.status_code == 400
    assert "'file'" in response.get_json()["error"]["message"]


def test_signed_url_serves_file_and_tampered_or_expired_url_is_403(api_client, app):
    response = api_client.post(
        "/api/v1/images/upload", data={"file": (io.BytesIO(photo_bytes("kitchen_02.jpg")), "kitchen.jpg")}
    )
    url = response.get_json()["data"]["url"]
    anonymous = app.test_client()
    download = anonymous.get(url)
    assert download.status_code == 200
    assert download.data == photo_bytes("kitchen_02.jpg")
    assert "attachment" in download.headers["Content-Disposition"]
    assert anonymous.get(url.replace("sig=", "sig=0")).status_code == 403
    expired = url.split("expires=")[0] + "expires=1&" + url.split("&", 1)[1].split("&", 1)[1]
    assert anonymous.get(expired).status_code == 403
