"""How pages answer htmx: the fragment for htmx, the whole page otherwise, and errors into the alert area."""
import pytest

from tests.factories import make_project, make_user

HTMX = {"HX-Request": "true"}


def test_htmx_request_gets_the_fragment_and_plain_request_the_whole_page(logged_in, project):
    url = f"/projects/{project.id}/generations"
    fragment = logged_in.get(url, headers=HTMX).get_data(as_text=True)
    assert fragment.lstrip().startswith('<section id="generations-table">')
    assert "<html" not in fragment
    page = logged_in.get(url).get_data(as_text=True)
    assert "<html" in page and 'id="generations-table"' in page


@pytest.mark.parametrize("method, path, status, message", [
    ("get", "/no-such-page", 404, "Not found."),  # fails at routing, before any view or blueprint
    ("get", "/projects/{stranger}", 404, "Project not found."),
    ("post", "/projects/{own}/images", 400, "Choose one or more JPEG, PNG, WebP or HEIC photos"),
])
def test_htmx_request_that_fails_with_4xx_gets_the_error_fragment_in_the_alert_area(
        logged_in, project, method, path, status, message):
    url = path.format(own=project.id, stranger=make_project(make_user()).id)
    response = getattr(logged_in, method)(url, headers=HTMX)
    assert response.status_code == status
    assert response.headers["HX-Retarget"] == "#errors"
    assert response.headers["HX-Reswap"] == "innerHTML"
    body = response.get_data(as_text=True)
    assert body.startswith('<p class="flash error" role="alert">') and message in body
    assert "<html" not in body


def test_plain_request_that_fails_with_4xx_gets_the_error_page_without_htmx_headers(logged_in):
    response = logged_in.get("/no-such-page")
    assert response.status_code == 404
    assert "<html" in response.get_data(as_text=True)
    assert "HX-Retarget" not in response.headers and "HX-Reswap" not in response.headers


def test_a_running_generations_fallback_check_swaps_only_when_its_status_changed(logged_in, project):
    from app.extensions import db
    from app.generations.models import GenerationStatus
    from app.generations.service import create_generation
    from app.generations.spec import GenerationSpec
    from tests.factories import make_image

    generation = create_generation(project, GenerationSpec(preset="enhance", references=[make_image(project).id]))
    db.session.commit()
    page = logged_in.get(f"/generations/{generation.id}").get_data(as_text=True)
    assert 'hx-trigger="every 10s"' in page  # besides its live stream, in case that drops

    check = f"/generations/{generation.id}?seen=queued"
    assert logged_in.get(check, headers={"HX-Request": "true"}).status_code == 204
    generation.status = GenerationStatus.FAILED
    db.session.commit()
    changed = logged_in.get(check, headers={"HX-Request": "true"})
    assert changed.status_code == 200 and 'data-status="failed"' in changed.get_data(as_text=True)
    assert 'hx-trigger="every 10s"' not in changed.get_data(as_text=True)  # finished: no more checks
