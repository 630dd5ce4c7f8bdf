"""One confirm is one batch and one charge, however often it is clicked or sent again; typed instructions are priced
as they are typed and the first click on the confirm counts (on a phone, with no sideways scrolling)."""
import sqlalchemy as sa
from playwright.sync_api import expect

from app.credits import service as credits
from app.credits.models import CreditLedger, LedgerKind
from app.extensions import db
from app.studio.models import Batch
from tests.browser.conftest import ARTIFACTS, fits_width, log_in
from tests.factories import make_image, make_project, make_user

NAMES = ("kitchen_01.jpg", "bedroom_01.jpg", "living_02.jpg", "dining_01.jpg")
KEY_FIELD = "#apply-quote input[name=form_key]"
# A person's second click, and how long a finger stays on the button.
SECOND_CLICK_MS = 500
PRESS_MS = 300


def open_listing(page, live_server: str, names=NAMES):
    """An agent with a listing of these photos, on its page at phone width, the apply bar loaded."""
    user = make_user()
    project = make_project(user, "3 Quay Street")
    for name in names:
        make_image(project, name)
    page.set_viewport_size({"width": 375, "height": 800})
    log_in(page, live_server, user)
    page.goto(f"{live_server}/projects/{project.id}")
    page.locator(".photo-card").nth(len(names) - 1).wait_for()
    page.locator("#apply-submit").wait_for()
    return project


def center_of(locator) -> tuple[float, float]:
    """Where a person's finger lands on it (scrolled into view first, as a person would)."""
    locator.scroll_into_view_if_needed()
    box = locator.bounding_box()
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def ledger(project) -> tuple[list[int], int]:
    """The workspace's reservations (amounts) and its balance, read afresh."""
    db.session.rollback()
    query = sa.select(CreditLedger.amount).where(CreditLedger.workspace_id == project.workspace_id,
                                                 CreditLedger.kind == LedgerKind.RESERVE)
    return list(db.session.scalars(query)), credits.balance(project.workspace_id)


def test_confirm_clicked_twice_and_sent_again_after_reload_is_one_batch_and_one_charge(live_server, page):
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    project = open_listing(page, live_server)
    _, before = ledger(project)
    page.check("#select-all")
    confirm = page.locator("#apply-submit")
    confirm.filter(has_text=f"Enhance {len(NAMES)} photos · {len(NAMES)} credits").wait_for()
    key = page.locator(KEY_FIELD).input_value()

    x, y = center_of(confirm)
    page.mouse.click(x, y)
    page.wait_for_timeout(SECOND_CLICK_MS)  # the person clicks again half a second later
    page.mouse.click(x, y)
    page.locator("#apply-message").filter(has_text=f"Started: Enhance on {len(NAMES)} photos").wait_for()
    expect(confirm).to_be_disabled()
    expect(page.locator(".select-photo:checked")).to_have_count(0)
    assert not page.locator("#select-all").is_checked()
    assert "Select the photos to change" in page.locator("#apply-quote").inner_text()
    assert fits_width(page)
    page.screenshot(path=str(ARTIFACTS / "apply-once-01-started-375.png"), full_page=True)
    page.locator("#batch-status").filter(has_text=f"Enhance: {len(NAMES)} of {len(NAMES)} done.").wait_for()

    # The same confirm sent again after a reload (its key kept): the batch already made, charged nothing more.
    page.reload()
    page.locator("#apply-submit").wait_for()
    page.check("#select-all")
    confirm.filter(has_text=f"Enhance {len(NAMES)} photos").wait_for()
    page.evaluate("([selector, key]) => { document.querySelector(selector).value = key; }", [KEY_FIELD, key])
    confirm.click()
    page.locator("#apply-message").filter(has_text=f"Started: Enhance on {len(NAMES)} photos").wait_for()
    page.locator("#batch-status").filter(has_text=f"Enhance: {len(NAMES)} of {len(NAMES)} done.").wait_for()
    expect(confirm).to_be_disabled()
    expect(page.locator(".select-photo:checked")).to_have_count(0)
    assert fits_width(page)

    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(Batch.id)).where(Batch.project_id == project.id)) == 1
    reservations, after = ledger(project)
    assert reservations == [-1] * len(NAMES) and before - after == len(NAMES)
    assert f"You have {after} credits" in page.locator("#apply-quote").inner_text()
    assert errors == []


def test_typed_instructions_are_priced_as_typed_and_the_first_click_counts(live_server, page):
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    project = open_listing(page, live_server, NAMES[:2])
    batch_posts = []
    page.on("request", lambda request: batch_posts.append(request.url)
            if request.method == "POST" and request.url.endswith("/studio/batches") else None)
    page.check("#select-all")
    page.check("input[name=choice][value=prompt]")
    confirm = page.locator("#apply-submit")
    page.locator("#apply-quote").filter(has_text="Write what to change").wait_for()

    # A click straight after typing, before the price came: it shows the price and starts nothing.
    page.click("#apply-prompt")
    page.keyboard.type("make it brighter")
    page.mouse.click(*center_of(confirm))
    confirm.filter(has_text="Apply 2 photos · 2 credits").wait_for()
    assert batch_posts == []

    # Typing more updates the price without leaving the box; then one click, held like a finger holds it, confirms.
    page.click("#apply-prompt")
    page.keyboard.press("End")
    page.keyboard.type(" and straighten it")
    confirm.filter(has_text="Apply 2 photos · 2 credits").wait_for()
    expect(page.locator("#apply-prompt")).to_be_focused()
    x, y = center_of(confirm)
    page.mouse.move(x, y)
    page.mouse.down()
    page.wait_for_timeout(PRESS_MS)
    page.mouse.up()
    page.locator("#apply-message").filter(has_text="Started: Your instructions on 2 photos").wait_for()
    assert len(batch_posts) == 1
    assert fits_width(page)
    page.screenshot(path=str(ARTIFACTS / "apply-once-02-own-words-375.png"), full_page=True)

    # Instructions the built-in engine cannot do are refused on the price line, where the agent is looking.
    page.check(".select-photo >> nth=0")
    page.click("#apply-prompt")
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.type("add a vase of flowers")
    page.mouse.click(*center_of(confirm))
    refusal = page.locator("#apply-quote .refusal")
    refusal.filter(has_text="Not started, nothing charged: “add a vase of flowers” needs an AI service").wait_for()
    expect(confirm).to_be_disabled()
    assert len(batch_posts) == 1
    assert fits_width(page)
    page.screenshot(path=str(ARTIFACTS / "apply-once-03-refused-375.png"), full_page=True)
    reservations, _ = ledger(project)
    assert reservations == [-1, -1]
    assert errors == []
