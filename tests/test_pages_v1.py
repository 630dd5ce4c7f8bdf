"""Pages for generations, flows and image properties."""
from app.extensions import db
from app.flows.service import create_flow
from app.generations.service import create_generation
from app.generations.spec import GenerationSpec
from app.images.models import Image
from tests.factories import make_image, make_project, make_user


def test_generations_page_lists_and_filters_by_status(logged_in, project, worker):
    image = make_image(project)
    generation = create_generation(project, GenerationSpec(preset="enhance", references=[image.id]))
    db.session.commit()
    worker()
    page = logged_in.get(f"/projects/{project.id}/generations").get_data(as_text=True)
    assert f"/generations/{generation.id}" in page and ">Done</span>" in page
    pending = logged_in.get(f"/projects/{project.id}/generations?status=waiting", headers={"HX-Request": "true"})
    assert 'id="generations-table"' in pending.get_data(as_text=True)
    assert f"/generations/{generation.id}" not in pending.get_data(as_text=True)


def test_flow_page_shows_timeline_and_edits_aliases(logged_in, project, worker):
    image = make_image(project)
    generation = create_generation(project, GenerationSpec(preset="enhance", references=[image.id], flow_alias="@step1"))
    db.session.commit()
    worker()
    page = logged_in.get(f"/flows/{generation.flow_id}").get_data(as_text=True)
    assert "@step1" in page and f"/generations/{generation.id}" in page
    response = logged_in.post(f"/flows/{generation.flow_id}/aliases", data={"alias": "@source", "image_id": image.id})
    assert response.status_code == 302
    bad = logged_in.post(f"/flows/{generation.flow_id}/aliases", data={"alias": "no-at", "image_id": image.id})
    assert bad.status_code == 400 and "Invalid alias" in bad.get_data(as_text=True)
    logged_in.post(f"/flows/{generation.flow_id}/aliases/@step1/delete")
    page = logged_in.get(f"/flows/{generation.flow_id}").get_data(as_text=True)
    assert "@source" in page and "@step1" not in page


def test_other_workspaces_flow_page_is_404(logged_in):
    flow = create_flow(make_project(make_user()))
    db.session.commit()
    assert logged_in.get(f"/flows/{flow.id}").status_code == 404


def test_image_page_sets_alias_and_focal_point(logged_in, project):
    image = make_image(project)
    response = logged_in.post(
        f"/images/{image.id}/properties", data={"alias": "@kitchen", "focal_x": "0.3", "focal_y": "0.6"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200 and "Saved." in response.get_data(as_text=True)
    stored = db.session.get(Image, image.id)
    assert (stored.alias, stored.focal_x, stored.focal_y) == ("@kitchen", 0.3, 0.6)
    bad = logged_in.post(f"/images/{image.id}/properties", data={"alias": "@kitchen", "focal_x": "3", "focal_y": "0"})
    assert bad.status_code == 400 and "between 0 and 1" in bad.get_data(as_text=True)
