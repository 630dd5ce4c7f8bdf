"""Small factories for rows the tests need."""
import itertools
from pathlib import Path

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
