"""Small factories for rows the tests need."""
import io
import itertools
from pathlib import Path

import pillow_heif
from PIL import Image as PILImage

from app.auth import service as auth_service
from app.extensions import db
from app.projects import service as project_service

PHOTOS = Path(__file__).resolve().parent.parent.parent / "shared" / "fixtures" / "photos"
PASSWORD = "correct horse battery"
_counter = itertools.count(1)


def photo_bytes(name: str) -> bytes:
    return (PHOTOS / name).read_bytes()


def make_user(email: str | None = None, password: str = PASSWORD, role: str = "agent"):
    user = auth_service.create_user(email or f"agent{next(_counter)}@example.com", password, role=role)
    db.session.commit()
    return user


def make_project(user, name: str = "12 Oak Lane", kind: str = "listing"):
    project = project_service.create_project(user, name, kind)
    db.session.commit()
    return project


def make_api_key(project) -> str:
    _, plaintext = auth_service.create_api_key(project, "test key")
    db.session.commit()
    return plaintext


def make_image(project, name: str = "kitchen_02.jpg"):
    from app.images.service import upload_image

    image = upload_image(project, photo_bytes(name), name)
    db.session.commit()
    return image


def heic_with_orientation() -> bytes:
    """A HEIC, as a phone saves it, of the fixture whose pixels lie on their side with EXIF orientation 6.

    pillow-heif turns the EXIF orientation into the HEIF's own transform, which decoders apply.
    """
    pillow_heif.register_heif_opener()
    source = PILImage.open(io.BytesIO(photo_bytes("exif_rotated_bedroom_01.jpg")))
    assert source.size == (853, 1280) and source.getexif()[0x0112] == 6
    buffer = io.BytesIO()
    source.save(buffer, format="HEIF", quality=80, exif=source.getexif().tobytes())
    return buffer.getvalue()
