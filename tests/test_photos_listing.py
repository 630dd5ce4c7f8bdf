"""The listing page's photos: one-file uploads for the drop zone, HEIC, duplicates, rooms, order, names, deleting."""
import io

import pytest
import sqlalchemy as sa
from PIL import Image as PILImage

from app.extensions import db
from app.generations.service import create_generation
from app.generations.spec import GenerationSpec
from app.images.models import Image
from app.images.service import listing_photos, upload_image
from app.images.storage import storage
from app.projects.models import Project
from tests import factories
from tests.factories import heic_with_orientation, photo_bytes

ONE = {"X-Photo-Upload": "one"}
HTMX = {"HX-Request": "true"}


def fixture_or_camera_name(name: str) -> bytes:
    """The fixture photo of that name; a camera-style name (IMG_…) gets a living-room photo."""
    return photo_bytes("living_01.jpg" if name.startswith("IMG_") else name)


def drop(client, project, name, data=None):
    """What the drop zone sends for one file."""
    body = {"photos": (io.BytesIO(data if data is not None else fixture_or_camera_name(name)), name)}
    return client.post(f"/projects/{project.id}/images", data=body, headers=ONE)


def names(project):
    return [image.title or image.original_filename for image in listing_photos(project)]


@pytest.fixture
def stranger_image(app):
    stranger = factories.make_user()
    return factories.make_image(factories.make_project(stranger, "Their house"))


def test_one_file_upload_answers_json_with_room_from_the_file_name(logged_in, project):
    response = drop(logged_in, project, "kitchen_01.jpg")
    assert response.status_code == 201
    body = response.get_json()
    assert body["name"] == "kitchen_01.jpg" and body["room"] == "kitchen" and body["duplicateOf"] is None
    image = db.session.get(Image, body["id"])
    assert (image.room_type, image.position) == ("kitchen", 1)


def test_one_file_upload_of_a_non_photo_says_what_to_upload(logged_in, project):
    response = drop(logged_in, project, "not_an_image.png")
    assert response.status_code == 400
    assert response.get_json()["error"] == (
        "not_an_image.png isn't a photo we can read — upload a JPEG, PNG, WebP or HEIC photo."
    )
    assert listing_photos(project) == []


def test_one_file_upload_refuses_two_files_and_none(logged_in, project):
    files = [(io.BytesIO(photo_bytes("kitchen_01.jpg")), "a.jpg"), (io.BytesIO(photo_bytes("bedroom_01.jpg")), "b.jpg")]
    two = logged_in.post(f"/projects/{project.id}/images", data={"photos": files}, headers=ONE)
    none = logged_in.post(f"/projects/{project.id}/images", data={}, headers=ONE)
    assert two.status_code == none.status_code == 400
    assert "one photo per request" in two.get_json()["error"]


def test_heic_from_a_phone_is_stored_as_an_upright_jpeg(logged_in, project):
    data = heic_with_orientation()
    assert data[4:12] == b"ftypheic"
    response = drop(logged_in, project, "IMG_0042.HEIC", data)
    assert response.status_code == 201, response.get_json()
    image = db.session.get(Image, response.get_json()["id"])
    assert (image.mime, image.extension, image.width, image.height) == ("image/jpeg", "jpg", 1280, 853)
    stored = PILImage.open(io.BytesIO(storage().get(image.storage_key)))
    assert (stored.format, stored.size) == ("JPEG", (1280, 853))
    assert stored.getexif().get(0x0112, 1) == 1  # upright pixels, nothing left for a viewer to turn
    assert image.storage_key.endswith(".jpg")


def test_the_page_accepts_heic_and_says_so(logged_in, project):
    page = logged_in.get(f"/projects/{project.id}").get_data(as_text=True)
    assert "image/heic" in page and ".heic" in page and "HEIC" in page


def test_a_duplicate_is_stored_and_flagged_on_its_card(logged_in, project):
    drop(logged_in, project, "kitchen_01.jpg")
    second = drop(logged_in, project, "kitchen copy.jpg", photo_bytes("kitchen_01.jpg"))
    assert second.status_code == 201
    assert second.get_json()["duplicateOf"] == "kitchen_01.jpg"
    assert "Same photo as kitchen_01.jpg" in second.get_json()["message"]
    grid = logged_in.get(f"/projects/{project.id}/photos").get_data(as_text=True)
    assert grid.count("Same photo as kitchen_01.jpg") == 1
    assert len(listing_photos(project)) == 2


def test_grid_groups_photos_by_room_in_the_listing_order_with_unsorted_last(logged_in, project):
    for name in ("bedroom_01.jpg", "IMG_1.jpg", "kitchen_01.jpg", "bedroom_02.jpg"):
        drop(logged_in, project, name)
    grid = logged_in.get(f"/projects/{project.id}/photos").get_data(as_text=True)
    headings = [grid.index(label) for label in (">Bedroom <", ">Kitchen <", ">Not sorted yet <")]
    assert headings == sorted(headings)
    numbers = [grid.index(f'photo-number" title="Place in the listing">{n}<') for n in (1, 4, 3, 2)]
    assert numbers == sorted(numbers)  # bedroom_01 (1), bedroom_02 (4), kitchen (3), then unsorted IMG_1 (2)


def test_agent_sets_the_room_and_bad_rooms_are_refused(logged_in, project):
    image_id = drop(logged_in, project, "IMG_7.jpg").get_json()["id"]
    response = logged_in.post(f"/images/{image_id}/room", data={"room_type": "dining room"}, headers=HTMX)
    assert response.status_code == 200 and ">Dining room <" in response.get_data(as_text=True)
    assert db.session.get(Image, image_id).room_type == "dining room"
    logged_in.post(f"/images/{image_id}/room", data={"room_type": "other"}, headers=HTMX)
    assert db.session.get(Image, image_id).room_type == "other"
    bad = logged_in.post(f"/images/{image_id}/room", data={"room_type": "dungeon"}, headers=HTMX)
    assert bad.status_code == 400 and "Choose a room from the list" in bad.get_data(as_text=True)
    cleared = logged_in.post(f"/images/{image_id}/room", data={"room_type": ""})
    assert cleared.status_code == 302 and db.session.get(Image, image_id).room_type is None


def test_a_finished_photo_description_sorts_an_unsorted_photo(app, project, worker):
    from app.analysis import service as analysis
    from app.analysis.writing import ListingContext

    unsorted = upload_image(project, photo_bytes("living_01.jpg"), "IMG_5.jpg")
    sorted_one = upload_image(project, photo_bytes("kitchen_01.jpg"), "kitchen_01.jpg")
    session = analysis.create_session(project, ListingContext())
    described = [analysis.add_project_image(project, session, image.id, room_hint="living room")
                 for image in (unsorted, sorted_one)]
    analysis.start_run(session, described, None)
    db.session.commit()
    assert unsorted.room_type is None
    worker()
    db.session.expire_all()
    assert db.session.get(Image, unsorted.id).room_type == "living room"
    assert db.session.get(Image, sorted_one.id).room_type == "kitchen"  # the agent's (or file name's) room stays


def test_move_earlier_and_later_within_a_room(logged_in, project):
    ids = [drop(logged_in, project, name).get_json()["id"]
           for name in ("bedroom_01.jpg", "kitchen_01.jpg", "bedroom_02.jpg")]
    response = logged_in.post(f"/images/{ids[2]}/move", data={"direction": "earlier"}, headers=HTMX)
    assert response.status_code == 200
    assert names(project) == ["bedroom_02.jpg", "kitchen_01.jpg", "bedroom_01.jpg"]
    logged_in.post(f"/images/{ids[2]}/move", data={"direction": "later"}, headers=HTMX)
    assert names(project) == ["bedroom_01.jpg", "kitchen_01.jpg", "bedroom_02.jpg"]
    first = logged_in.post(f"/images/{ids[0]}/move", data={"direction": "earlier"}, headers=HTMX)
    assert first.status_code == 400 and "already the first photo of its room" in first.get_data(as_text=True)
    sideways = logged_in.post(f"/images/{ids[0]}/move", data={"direction": "up"}, headers=HTMX)
    assert sideways.status_code == 400 and "earlier or later" in sideways.get_data(as_text=True)


def test_rename_a_photo_and_back_to_its_file_name(logged_in, project):
    image_id = drop(logged_in, project, "kitchen_01.jpg").get_json()["id"]
    response = logged_in.post(f"/images/{image_id}/title", data={"title": "  Kitchen, island view "}, headers=HTMX)
    assert response.status_code == 200 and "Kitchen, island view" in response.get_data(as_text=True)
    assert db.session.get(Image, image_id).title == "Kitchen, island view"
    too_long = logged_in.post(f"/images/{image_id}/title", data={"title": "x" * 121}, headers=HTMX)
    assert too_long.status_code == 400 and "at most 120 characters" in too_long.get_data(as_text=True)
    logged_in.post(f"/images/{image_id}/title", data={"title": ""}, headers=HTMX)
    assert db.session.get(Image, image_id).title is None


def test_delete_one_photo_and_a_selection(logged_in, project):
    ids = [drop(logged_in, project, name).get_json()["id"]
           for name in ("bedroom_01.jpg", "kitchen_01.jpg", "living_01.jpg")]
    response = logged_in.post(f"/images/{ids[0]}/delete", headers=HTMX)
    assert response.status_code == 200 and "Deleted bedroom_01.jpg." in response.get_data(as_text=True)
    selection = logged_in.post(f"/projects/{project.id}/photos/delete", data={"image_ids": ids[1:]}, headers=HTMX)
    assert selection.status_code == 200 and "Deleted 2 photos." in selection.get_data(as_text=True)
    assert listing_photos(project) == []
    empty = logged_in.post(f"/projects/{project.id}/photos/delete", data={}, headers=HTMX)
    assert empty.status_code == 400 and "Select the photos to delete first" in empty.get_data(as_text=True)
    gone = logged_in.post(f"/images/{ids[0]}/delete", headers=HTMX)
    assert gone.status_code == 404


def test_photo_actions_on_another_workspace_are_404(logged_in, project, stranger_image):
    actions = (("room", {"room_type": "kitchen"}), ("title", {"title": "mine"}), ("move", {"direction": "later"}),
               ("delete", {}))
    for path, form in actions:
        assert logged_in.post(f"/images/{stranger_image.id}/{path}", data=form).status_code == 404
    theirs = {"image_ids": [stranger_image.id]}
    assert logged_in.post(f"/projects/{project.id}/photos/delete", data=theirs).status_code == 404
    assert logged_in.post(f"/projects/{stranger_image.project_id}/photos/delete", data=theirs).status_code == 404
    assert logged_in.get(f"/projects/{stranger_image.project_id}/photos").status_code == 404
    assert db.session.get(Image, stranger_image.id).deleted_at is None


def test_listing_page_shows_the_agents_links_only(logged_in, project):
    page = logged_in.get(f"/projects/{project.id}").get_data(as_text=True)
    assert "Describe photos" in page
    for developer_link in ("API keys", "Live URLs", ">Flows<", ">Generations<"):
        assert developer_link not in page


def test_rename_the_listing(logged_in, project):
    form = {"name": " 14 Oak  Lane ", "address": "14 Oak Lane, Bath"}
    response = logged_in.post(f"/projects/{project.id}/rename", data=form)
    assert response.status_code == 302
    page = logged_in.get(f"/projects/{project.id}").get_data(as_text=True)
    assert "14 Oak Lane, Bath" in page and db.session.get(Project, project.id).name == "14 Oak Lane"
    empty = logged_in.post(f"/projects/{project.id}/rename", data={"name": "  "})
    assert empty.status_code == 400 and "Give the listing a name" in empty.get_data(as_text=True)


def test_delete_the_listing_with_its_photo_files(logged_in, project):
    image = factories.make_image(project)
    keys = (image.storage_key, image.thumbnail_key)
    page = logged_in.get(f"/projects/{project.id}").get_data(as_text=True)
    assert 'data-confirm="Delete the listing' in page
    response = logged_in.post(f"/projects/{project.id}/delete")
    assert response.status_code == 302 and response.headers["Location"].endswith("/projects")
    db.session.expire_all()
    assert db.session.get(Project, project.id) is None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Image).where(Image.project_id == project.id)) == 0
    assert not any(storage().path(key).exists() for key in keys)


def test_a_listing_with_running_work_is_not_deleted(logged_in, project):
    image = factories.make_image(project)
    create_generation(project, GenerationSpec(preset="enhance", references=[image.id]))
    db.session.commit()
    response = logged_in.post(f"/projects/{project.id}/delete")
    assert response.status_code == 409
    assert "still being worked on" in response.get_data(as_text=True)
    assert db.session.get(Project, project.id) is not None
    assert storage().path(image.storage_key).exists()


def test_listing_actions_on_another_workspace_are_404(logged_in, stranger_image):
    project_id = stranger_image.project_id
    assert logged_in.post(f"/projects/{project_id}/rename", data={"name": "mine"}).status_code == 404
    assert logged_in.post(f"/projects/{project_id}/delete").status_code == 404
    assert db.session.get(Project, project_id).name == "Their house"


def test_one_file_upload_over_the_size_limit_is_413_with_the_limit(logged_in, project):
    response = drop(logged_in, project, "too_large.png")
    assert response.status_code == 413
    assert response.get_json()["error"].startswith("File too large: too_large.png is")


def test_without_script_the_plain_form_uploads_several_photos(logged_in, project):
    files = [(io.BytesIO(photo_bytes(name)), name) for name in ("kitchen_01.jpg", "not_an_image.png")]
    response = logged_in.post(f"/projects/{project.id}/images", data={"photos": files}, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "Uploaded 1 photo." in page
    assert "not_an_image.png isn&#39;t a photo we can read" in page and 'class="photo-card"' in page


def test_files_sent_side_by_side_keep_the_order_they_were_chosen_in(logged_in, project):
    for name, position in (("living_01.jpg", 3), ("kitchen_01.jpg", 1), ("bedroom_01.jpg", 2)):
        body = {"photos": (io.BytesIO(photo_bytes(name)), name), "position": str(position)}
        assert logged_in.post(f"/projects/{project.id}/images", data=body, headers=ONE).status_code == 201
    assert names(project) == ["kitchen_01.jpg", "bedroom_01.jpg", "living_01.jpg"]
    grid = logged_in.get(f"/projects/{project.id}/photos").get_data(as_text=True)
    assert 'data-next-position="4"' in grid
    odd = {"photos": (io.BytesIO(photo_bytes("dining_01.jpg")), "dining_01.jpg"), "position": "-5"}
    image_id = logged_in.post(f"/projects/{project.id}/images", data=odd, headers=ONE).get_json()["id"]
    assert db.session.get(Image, image_id).position == 4  # a place the page cannot mean: after the last photo


def test_heic_through_the_api_is_stored_as_jpeg_too(api_client):
    heic = (io.BytesIO(heic_with_orientation()), "front.heic")
    response = api_client.post("/api/v1/images/upload", data={"file": heic})
    assert response.status_code == 201
    body = response.get_json()["data"]
    assert (body["width"], body["height"]) == (1280, 853)
    assert db.session.get(Image, body["id"]).mime == "image/jpeg"
