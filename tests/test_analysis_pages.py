"""The "Describe photos" page: pick photos, watch cards fill in over SSE, edit inline, download."""
import json

from app.credits import service as credits
from tests import factories


def _start(logged_in, project, images, **context):
    return logged_in.post(f"/projects/{project.id}/describe",
                          data={"image_ids": [image.id for image in images], "city": "Springfield", **context})


def test_describing_photos_fills_cards_live_and_charges_a_credit_each(logged_in, project, worker):
    images = [factories.make_image(project, name) for name in ("kitchen_01.jpg", "bedroom_01.jpg")]
    before = credits.balance(project.workspace_id)
    page = logged_in.get(f"/projects/{project.id}/describe")
    assert page.status_code == 200 and "Describe the chosen photos" in page.get_data(as_text=True)

    started = _start(logged_in, project, images)
    assert started.status_code == 302
    session_page = logged_in.get(started.headers["Location"]).get_data(as_text=True)
    assert 'sse-connect="' in session_page and "Waiting for its turn" in session_page

    stream = logged_in.get(started.headers["Location"] + "/events", buffered=False)
    worker()
    body = stream.get_data(as_text=True)

    assert body.count("event: card-") == 4  # each photo starts, then is described
    assert 'name="title"' in body and "Springfield" in body and "event: complete" in body
    assert credits.balance(project.workspace_id) == before - 2
    finished = logged_in.get(started.headers["Location"]).get_data(as_text=True)
    assert "sse-connect" not in finished and "All 2 photos are described" in finished


def test_fields_are_edited_inline_and_downloaded_as_csv_and_json(logged_in, project, worker):
    image = factories.make_image(project, "kitchen_01.jpg")
    location = _start(logged_in, project, [image]).headers["Location"]
    worker()
    analysis_id = logged_in.get(location).get_data(as_text=True).split('id="card-')[1].split('"')[0]

    edited = logged_in.post(f"{location}/photos/{analysis_id}", data={"title": "Chef's kitchen", "seoTags": "a, b"})

    assert edited.status_code == 200 and "Saved" in edited.get_data(as_text=True)
    csv_text = logged_in.get(f"{location}/download.csv").get_data(as_text=True)
    assert csv_text.startswith("originalFilename,title,alt") and "Chef's kitchen" in csv_text
    rows = json.loads(logged_in.get(f"{location}/download.json").get_data(as_text=True))
    assert rows[0]["title"] == "Chef's kitchen" and rows[0]["seoTags"] == ["a", "b"]


def test_starting_without_photos_says_what_to_do(logged_in, project):
    response = logged_in.post(f"/projects/{project.id}/describe", data={})

    assert response.status_code == 400 and "Choose at least one photo" in response.get_data(as_text=True)


def test_another_agents_project_is_not_found(client, project):
    other = factories.make_user()
    client.post("/login", data={"email": other.email, "password": factories.PASSWORD})

    assert client.get(f"/projects/{project.id}/describe").status_code == 404
