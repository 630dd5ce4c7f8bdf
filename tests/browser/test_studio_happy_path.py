"""The agent's whole happy path, in Chromium against Stagecraft started as `make run` starts it.

Sign up → create a listing → upload twenty photos (one of them not a photo) → select all → enhance
→ watch every card finish without reloading → download the zip → compare. Clicks are counted (at
most 10), each step is checked for sideways scrolling and photographed, and no page may raise a
JavaScript error. The same path runs on a desk (1280 px) and on a phone (375 px).
"""
import io
import shutil
import zipfile

import pytest

from tests.browser.conftest import ARTIFACTS, EAGER_IMAGES, new_page
from tests.factories import PHOTOS

GOOD_PHOTOS = (
    "bathroom_01.jpg", "bedroom_01.jpg", "bedroom_02.jpg", "bedroom_03.jpg", "dark_bathroom_01.jpg",
    "dark_bedroom_01.jpg", "dark_living_01.jpg", "dining_01.jpg", "dining_02.jpg", "dusk_exterior_01.jpg",
    "empty_living_01.jpg", "exterior_01.jpg", "exterior_02.jpg", "exterior_04.jpg", "kitchen_01.jpg",
    "kitchen_02.webp", "kitchen_03.jpg", "living_01.jpg", "living_02.jpg",
)
NOT_A_PHOTO = "not_an_image.png"
MAX_CLICKS = 10
VIEWPORTS = {"desk": {"width": 1280, "height": 900}, "phone": {"width": 375, "height": 812}}


class Agent:
    """A Chromium page whose clicks are counted and whose steps are photographed and checked for width."""

    def __init__(self, page, name: str):
        self.page, self.name, self.clicks, self.step = page, name, 0, 0
        self.errors: list[str] = []
        page.on("pageerror", lambda error: self.errors.append(str(error)))

    def click(self, target) -> None:
        self.clicks += 1
        (self.page.locator(target) if isinstance(target, str) else target).click()

    def snap(self, what: str) -> None:
        self.step += 1
        self.page.evaluate(EAGER_IMAGES)
        wider = self.page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        self.page.screenshot(path=str(ARTIFACTS / f"studio-{self.name}-{self.step:02d}-{what}.png"), full_page=True)
        assert wider <= 0, f"{what}: the page scrolls sideways by {wider} px on the {self.name}"


@pytest.fixture
def twenty_files(tmp_path):
    """Nineteen listing photos and one file that is not a photo, as an agent would pick them."""
    folder = tmp_path / "listing"
    folder.mkdir()
    for name in (*GOOD_PHOTOS, NOT_A_PHOTO):
        shutil.copy(PHOTOS / name, folder / name)
    return sorted(folder.iterdir())


@pytest.mark.parametrize("device", VIEWPORTS)
def test_twenty_photos_from_upload_to_zip_in_ten_clicks(product, chromium, twenty_files, device):
    page = new_page(chromium, **VIEWPORTS[device])
    agent = Agent(page, device)
    expect = _expect()

    page.goto(product)
    agent.snap("home")
    main = page.locator("main")
    agent.click(main.get_by_role("button", name="Sign up: 50 free credits"))
    page.get_by_label("Email").fill(f"agent-{device}@example.com")
    page.get_by_label("Password").fill("correct horse battery")
    agent.click(main.get_by_role("button", name="Sign up", exact=True))
    expect(page.get_by_role("heading", name="Your listings")).to_be_visible()
    agent.snap("dashboard")

    page.get_by_label("Name").fill("12 Oak Lane")
    page.get_by_label("Address").fill("12 Oak Lane, Springfield")
    agent.click(page.get_by_role("button", name="Create listing"))
    expect(page.get_by_role("heading", name="12 Oak Lane")).to_be_visible()
    agent.snap("listing")

    with page.expect_file_chooser() as chooser:
        agent.click(page.get_by_text("Choose photos", exact=True))
    chooser.value.set_files([str(path) for path in twenty_files])
    expect(page.locator(".photo-card")).to_have_count(len(GOOD_PHOTOS))
    expect(page.locator("#upload-list")).to_contain_text(NOT_A_PHOTO)
    expect(page.locator("#upload-list")).to_contain_text("upload a JPEG, PNG, WebP or HEIC photo")
    agent.snap("uploaded")

    agent.click("#select-all")
    submit = page.locator("#apply-submit")
    expect(submit).to_have_text(f"Enhance {len(GOOD_PHOTOS)} photos · {len(GOOD_PHOTOS)} credits")
    agent.snap("priced")
    agent.click(submit)
    expect(page.locator("#batch-status")).to_contain_text(
        f"{len(GOOD_PHOTOS)} of {len(GOOD_PHOTOS)} done"
    )
    expect(page.locator(".card-state[data-state=done]")).to_have_count(len(GOOD_PHOTOS))
    expect(page.locator("#balance")).to_contain_text(str(50 - len(GOOD_PHOTOS)))
    agent.snap("enhanced")

    with page.expect_download() as download:
        agent.click("#downloads button.download-all")
    archive = zipfile.ZipFile(io.BytesIO(open(download.value.path(), "rb").read()))
    agent.snap("zipped")
    _check_zip(archive.namelist())

    agent.click(page.locator(".photo-card").first.locator(".compare-link"))
    slider = page.locator("#final-version img-comparison-slider")
    expect(slider).to_be_visible()
    slider.scroll_into_view_if_needed()
    agent.snap("compare")

    assert agent.clicks <= MAX_CLICKS, f"the happy path took {agent.clicks} clicks"
    assert agent.errors == []


def _check_zip(names: list[str]) -> None:
    """Finals and originals of all nineteen photos, numbered in the listing's order and named by room."""
    finals = sorted(name for name in names if name.startswith("finals/"))
    originals = sorted(name for name in names if name.startswith("originals/"))
    assert len(finals) == len(originals) == len(GOOD_PHOTOS), names
    assert finals[0].startswith("finals/01-") and finals[-1].startswith(f"finals/{len(GOOD_PHOTOS):02d}-")
    assert any("kitchen" in name for name in finals) and any("bedroom" in name for name in finals)
    assert not any(NOT_A_PHOTO in name for name in names)


def _expect():
    from playwright.sync_api import expect

    return expect
