"""What an agent does on day one: sign up, create a listing, upload, enhance, watch it live, download."""
import io

from PIL import Image as PILImage

from tests.browser.conftest import ARTIFACTS
from tests.factories import PHOTOS


def test_agent_signs_up_uploads_enhances_and_downloads(live_server, page):
    page.goto(f"{live_server}/signup")
    page.fill("input[name=email]", "agent@example.com")
    page.fill("input[name=password]", "a long password")
    page.click("button[type=submit]")
    page.wait_for_url("**/projects")

    page.fill("input[name=name]", "12 Oak Lane")
    page.click("text=Create listing")
    page.wait_for_selector("h1:has-text('12 Oak Lane')")

    page.set_input_files("#photo-files", str(PHOTOS / "kitchen_01.jpg"))  # uploads as soon as it is chosen
    page.wait_for_selector("#image-grid .photo-card")
    page.screenshot(path=str(ARTIFACTS / "01-project-with-photo.png"), full_page=True)

    page.click("#image-grid .photo-card a.photo-link")
    page.click("button[data-preset=enhance]")
    # The component arrives queued and turns into the result without a reload, over SSE.
    page.wait_for_selector(".generation [data-status]")
    page.wait_for_selector(".generation [data-status=succeeded]")
    page.wait_for_selector("img-comparison-slider")
    page.screenshot(path=str(ARTIFACTS / "02-enhanced-before-after.png"), full_page=True)

    with page.expect_download() as download_info:
        page.click("#generations a.download")
    download = download_info.value
    saved = ARTIFACTS / download.suggested_filename
    download.save_as(saved)
    result = PILImage.open(io.BytesIO(saved.read_bytes()))
    assert result.size == (1280, 853)
    # Named by the photo's place in the listing and its name (its room once one is set), not a random id.
    assert download.suggested_filename == "01-kitchen.jpg"  # its place in the listing and its room

    page.click("header a:has-text('Presets')")
    page.wait_for_selector("#preset-day-to-dusk img-comparison-slider")
    page.screenshot(path=str(ARTIFACTS / "03-presets.png"), full_page=True)
    assert page.locator(".preset-card").count() >= 18
