"""An agent prepares a style on a photo and processes it later; an API caller processes against live gunicorn."""
import pytest
import requests

from tests.browser.conftest import ARTIFACTS, log_in
from tests.factories import make_api_key, make_image, make_project, make_user
from tests.processes import HANG_GUARD


@pytest.fixture
def live_server_env(fal_queue) -> dict:
    """fal.ai connected on its stand-in: process-image promises Nano Banana Pro, never the built-in engine."""
    return {"FAL_KEY": fal_queue.key, "FAL_QUEUE_URL": fal_queue.url, "OUTBOUND_ALLOWLIST": "127.0.0.1",
            "PROVIDER_POLL_INTERVAL": "0.05"}


def test_agent_prepares_a_style_then_processes_it_on_a_phone(app, live_server, page):
    user = make_user()
    image = make_image(make_project(user), "dark_living_01.jpg")
    page.set_viewport_size({"width": 375, "height": 800})
    log_in(page, live_server, user)

    page.goto(f"{live_server}/images/{image.id}")
    page.click("summary:has-text('Details for developers')")  # prepared styles are a developer's tool
    page.fill("#prepared-styles textarea[name=prompt]", "brighten the room")
    page.click("text=Save for later")
    page.wait_for_selector("#prepared-styles li[data-status=pending]")
    page.screenshot(path=str(ARTIFACTS / "prepared-01-pending-375.png"), full_page=True)
    # The section fits a phone (the site header's own width is the header's business).
    section = page.locator("#prepared-styles").bounding_box()
    assert section["x"] >= 0 and section["x"] + section["width"] <= 375

    page.click("#prepared-styles li button:has-text('Process')")
    # The list follows the work without a reload until it is done.
    page.wait_for_selector("#prepared-styles li[data-status=completed]")
    page.screenshot(path=str(ARTIFACTS / "prepared-02-done-375.png"), full_page=True)
    assert page.locator("#prepared-styles a:has-text('see the result')").count() == 1


def test_process_image_waits_for_the_worker_under_gevent(app, live_server, project):
    key = make_api_key(project)
    headers = {"X-API-Key": key}
    image = make_image(project)
    created = requests.post(f"{live_server}/api/image-generations", headers=headers,
                            json={"imageId": image.id, "prompt": "enhance"}, timeout=30)
    assert created.status_code == 201
    record_id = created.json()["data"]["id"]
    processed = requests.post(f"{live_server}/api/process-image", headers=headers, json={"imageId": record_id}, timeout=HANG_GUARD)
    assert processed.status_code == 200, processed.text
    assert processed.json()["success"] is True and "sig=" in processed.json()["url"]
    assert requests.get(processed.json()["url"], timeout=30).status_code == 200
