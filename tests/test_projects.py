"""Projects and workspace isolation."""
import io

from app.extensions import db
from app.images.service import upload_image
from tests.factories import make_project, make_user, photo_bytes


def test_create_project_from_the_page(logged_in):
    response = logged_in.post("/projects", data={"name": "12 Oak Lane", "kind": "listing"})
    assert response.status_code == 302
    page = logged_in.get(response.headers["Location"])
    assert b"12 Oak Lane" in page.data


def test_project_without_a_name_is_refused_with_a_message(logged_in):
    response = logged_in.post("/projects", data={"name": "  "})
    assert response.status_code == 400
    assert b"Give the project a name" in response.data


def test_another_workspaces_project_is_404(logged_in):
    stranger_project = make_project(make_user(), name="Not yours")
    assert logged_in.get(f"/projects/{stranger_project.id}").status_code == 404
    assert logged_in.get(f"/projects/{stranger_project.id}/keys").status_code == 404
    upload = logged_in.post(f"/projects/{stranger_project.id}/images", data={"photos": (io.BytesIO(b"x"), "a.jpg")})
    assert upload.status_code == 404


def test_another_workspaces_image_is_404_on_pages_and_api(logged_in, api_client):
    stranger_project = make_project(make_user())
    image = upload_image(stranger_project, photo_bytes("kitchen_02.jpg"), "kitchen.jpg")
    db.session.commit()
    assert logged_in.get(f"/images/{image.id}").status_code == 404
    assert logged_in.post(f"/images/{image.id}/generations", data={"preset": "enhance"}).status_code == 404
    response = api_client.get(f"/api/v1/images/{image.id}")
    assert response.status_code == 404
    assert response.get_json()["error"]["message"] == "Image not found"


def test_projects_list_shows_only_own_projects(logged_in, project):
    make_project(make_user(), name="Stranger Street 9")
    page = logged_in.get("/projects").get_data(as_text=True)
    assert project.name in page
    assert "Stranger Street 9" not in page


def test_oversized_ids_are_404_not_errors(logged_in):
    assert logged_in.get("/projects/99999999999999999999999").status_code == 404
    assert logged_in.get("/projects/1/keys/99999999999999999999/revoke").status_code in (404, 405)
