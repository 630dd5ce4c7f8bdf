"""Compare and deliver, as an agent does it on a phone: enhance a photo, drag the before/after, download it,
keep a version, undo, then download the whole listing as one zip named by order and room.
(The desk-width happy path, from sign-up to the listing's zip, is test_studio_happy_path.)"""
import io
import zipfile

from PIL import Image as PILImage

from app.extensions import db
from app.images.storage import storage
from tests.browser.conftest import ARTIFACTS, log_in
from tests.factories import make_image, make_project, make_user

ROOMS = (("kitchen_02.jpg", "kitchen"), ("bedroom_01.jpg", "bedroom"), ("living_01.jpg", None))


def shot(page, number: int, name: str, width: int) -> None:
    page.screenshot(path=str(ARTIFACTS / f"deliver-{number:02d}-{name}-{width}.png"), full_page=True)


def fits(page, width: int) -> None:
    scroll, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert scroll <= inner, f"{page.url} scrolls sideways at {width} px: {scroll} > {inner}"


def drag_slider(page, slider) -> None:
    """Drag a comparison slider's divider from the middle to a quarter of its width."""
    slider.scroll_into_view_if_needed()
    box = slider.bounding_box()
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] / 2, y)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 4, y, steps=8)
    page.mouse.up()
    assert slider.evaluate("element => element.value") < 40


def test_agent_compares_keeps_undoes_and_downloads_the_listing_zip(app, live_server, page):
    width = 375
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.set_viewport_size({"width": width, "height": 900})
    user = make_user()
    project = make_project(user)
    photos = [make_image(project, name) for name, _ in ROOMS]
    for photo, (_, room) in zip(photos, ROOMS):
        photo.room_type = room
    db.session.commit()
    log_in(page, live_server, user)

    # Enhance the kitchen from its page; the result arrives live with a before/after slider.
    page.goto(f"{live_server}/images/{photos[0].id}")
    page.click("button[data-preset=enhance]")
    page.wait_for_selector("#generations .generation [data-status=succeeded]")
    drag_slider(page, page.locator("#generations img-comparison-slider").first)
    page.wait_for_selector("#final-version img-comparison-slider")  # the new final shows up without a reload
    fits(page, width)
    shot(page, 1, "result-compare", width)
    with page.expect_download() as download_info:  # named by its place in the listing and its room
        page.click("#generations a.download")
    assert download_info.value.suggested_filename == "01-kitchen.jpg"
    result = PILImage.open(download_info.value.path())
    assert result.size == PILImage.open(io.BytesIO(storage().get(photos[0].storage_key))).size

    # Try again: a second variation, then keep the first one instead of the newest.
    page.click("#generations button.try-again")
    page.locator("#generations [data-status=succeeded]").nth(1).wait_for()
    page.reload()
    with page.expect_navigation():
        page.locator("#generations button.keep-version").first.click()
    page.wait_for_selector("text=Kept this version")
    assert page.locator("#final-version .badge.kept").count() == 1
    assert page.locator("#versions li.is-final").count() == 1
    drag_slider(page, page.locator("#final-version img-comparison-slider"))
    fits(page, width)
    shot(page, 2, "kept", width)

    # Undo, then go back to the original from the versions list.
    with page.expect_navigation():
        page.click("button.undo")
    assert page.locator("#final-version .badge.kept").count() == 1
    with page.expect_navigation():
        page.click("#versions button:has-text('Back to the original')")
    page.wait_for_selector("text=Back to the original: it is the version you download now.")
    assert page.locator("#final-version img-comparison-slider").count() == 0
    with page.expect_navigation():
        page.locator("#versions button.use-version").first.click()  # the newest result again
    page.wait_for_selector("#final-version img-comparison-slider")
    assert not page.locator("details.developer-details").evaluate("element => element.open")
    shot(page, 3, "versions", width)

    # The listing's zip: one click on Download all, and the file is saved when it is ready.
    page.goto(f"{live_server}/projects/{project.id}")
    fits(page, width)
    with page.expect_download() as download_info:
        page.click("#downloads button.download-all")
    download = download_info.value
    assert download.suggested_filename == "12-oak-lane-photos.zip"
    saved = ARTIFACTS / f"deliver-listing-{width}.zip"
    download.save_as(saved)
    names = sorted(zipfile.ZipFile(io.BytesIO(saved.read_bytes())).namelist())
    assert names == ["finals/01-kitchen.jpg", "finals/02-bedroom.jpg", "finals/03-living-01.jpg",
                     "originals/01-kitchen.jpg", "originals/02-bedroom.jpg", "originals/03-living-01.jpg"]
    page.wait_for_selector("#export-status a.download-zip")
    shot(page, 4, "zip-ready", width)

    # Nothing ticked: "Download selected" says what to do, next to the buttons.
    page.click("#downloads button.download-selected")
    page.wait_for_selector("#export-status .export-error:has-text('Select photos first')")
    fits(page, width)

    # Tick the bedroom: its zip keeps the listing's number.
    page.check(f".select-photo[value='{photos[1].id}']")
    with page.expect_download() as download_info:
        page.click("#downloads button.download-selected")
    selected = zipfile.ZipFile(io.BytesIO(open(download_info.value.path(), "rb").read())).namelist()
    assert sorted(selected) == ["finals/02-bedroom.jpg", "originals/02-bedroom.jpg"]

    # What else could be done to the photos: every preset with a before/after example, from the phone's menu.
    page.click("summary:has-text('Account')")
    page.click(".account-menu a:has-text('Presets')")
    page.wait_for_selector("#preset-day-to-dusk img-comparison-slider")
    assert page.locator(".preset-card").count() >= 18
    fits(page, width)
    assert not errors, errors
