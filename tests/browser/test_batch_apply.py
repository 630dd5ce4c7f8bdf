"""An agent applies Enhance to a listing's selected photos, sees the price first and watches every card finish live."""
from playwright.sync_api import expect

from tests.browser.conftest import ARTIFACTS, fits_width
from tests.factories import PHOTOS

NAMES = ("kitchen_01.jpg", "bedroom_01.jpg", "living_02.jpg")


def select_all_and_enhance(page, step: int, width: int) -> None:
    """Tick every photo, read the price on the confirm button, confirm, and watch all cards reach Done."""
    page.check("#select-all")
    button = page.locator("#apply-submit")
    button.filter(has_text=f"Enhance {len(NAMES)} photos · {len(NAMES)} credits").wait_for()
    assert "you have" in page.locator("#apply-quote .balance-line").inner_text()
    assert fits_width(page)
    page.screenshot(path=str(ARTIFACTS / f"batch-{step:02d}-price-{width}.png"), full_page=True)
    button.click()
    page.locator("#apply-message").filter(has_text="Started: Enhance on 3 photos").wait_for()
    # Once started, the photos are no longer chosen and the confirm cannot start the batch again.
    expect(page.locator(".select-photo:checked")).to_have_count(0)
    expect(button).to_be_disabled()
    page.locator("#batch-status").filter(has_text=f"Enhance: {len(NAMES)} of {len(NAMES)} done.").wait_for()
    assert page.locator(".card-state[data-state=done]").count() == len(NAMES)
    assert page.locator(".card-state .card-result img").count() == len(NAMES)
    assert fits_width(page)
    page.screenshot(path=str(ARTIFACTS / f"batch-{step + 1:02d}-done-{width}.png"), full_page=True)


def test_agent_enhances_the_selection_and_watches_it_finish_without_reloading(live_server, page):
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{live_server}/signup")
    page.fill("input[name=email]", "batch-agent@example.com")
    page.fill("input[name=password]", "a long password")
    page.click("button[type=submit]")
    page.wait_for_url("**/projects")
    page.fill("input[name=name]", "7 Harbour View")
    page.click("text=Create listing")
    page.wait_for_selector("h1:has-text('7 Harbour View')")

    page.set_input_files("#photo-files", [str(PHOTOS / name) for name in NAMES])  # uploading starts at once
    page.wait_for_selector("text=3 photos uploaded.")
    page.locator(".photo-card").nth(len(NAMES) - 1).wait_for()
    # Enhance is chosen from the start; with nothing selected the bar says what to do.
    assert page.locator("input[name=choice][value='preset:enhance']").is_checked()
    assert "Select the photos to change" in page.locator("#apply-quote").inner_text()
    assert page.locator("#apply-submit").is_disabled()
    page.screenshot(path=str(ARTIFACTS / "batch-01-listing-1280.png"), full_page=True)
    navigations = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url) if frame == page.main_frame else None)

    select_all_and_enhance(page, 2, 1280)

    page.set_viewport_size({"width": 375, "height": 800})
    page.reload()
    page.locator("#apply-submit").wait_for()
    assert page.locator(".card-state[data-state=done]").count() == len(NAMES)
    navigations.clear()
    select_all_and_enhance(page, 4, 375)
    assert navigations == [], "the page reloaded while watching"

    # Own instructions are priced as they are typed, and saved for the workspace with Enter (which runs nothing).
    page.check("#select-all")
    page.check("input[name=choice][value=prompt]")
    page.fill("#apply-prompt", "make it brighter")
    page.locator("#apply-submit").filter(has_text="Apply 3 photos · 3 credits").wait_for()
    page.fill(".save-preset input[name=name]", "Brighter")
    page.press(".save-preset input[name=name]", "Enter")
    page.locator(".saved-choice").filter(has_text="Brighter").wait_for()
    assert page.locator(".saved-choice input[name=choice]").is_checked()
    page.locator("#apply-submit").filter(has_text="Apply 3 photos · 3 credits").wait_for()
    assert "Enhance: 3 of 3 done." in page.locator("#batch-status").inner_text()
    assert fits_width(page)
    page.screenshot(path=str(ARTIFACTS / "batch-06-saved-preset-375.png"), full_page=True)
    assert errors == []
