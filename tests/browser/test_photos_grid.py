"""An agent puts a listing's twenty photos on the page: chooses and drops them, sees each one's progress and the
one file that is not a photo, then selects all, renames and reorders, on a laptop and on a phone."""
import base64
import re

from playwright.sync_api import expect

from tests.browser.conftest import ARTIFACTS, EAGER_IMAGES, fits_width, log_in
from tests.factories import photo_bytes

PHOTOS = [
    "backlit_exterior_01.jpg", "bathroom_01.jpg", "bedroom_01.jpg", "bedroom_02.jpg", "bedroom_03.jpg", "dining_01.jpg",
    "dining_02.jpg", "dusk_exterior_01.jpg", "empty_living_01.jpg", "exterior_01.jpg", "exterior_02.jpg",
    "exterior_03.jpg", "exterior_04.jpg", "kitchen_01.jpg", "kitchen_02.jpg", "kitchen_03.jpg", "living_01.jpg",
    "living_02.jpg",
]
# Dropped rather than chosen: a second copy of a kitchen photo under another name, and a file that is no photo.
DROPPED = [
    ("kitchen_01 copy.jpg", "kitchen_01.jpg", "image/jpeg"),
    ("not_an_image.png", "not_an_image.png", "image/png"),
]
NOT_A_PHOTO = "not_an_image.png isn't a photo we can read — upload a JPEG, PNG, WebP or HEIC photo."
DROP_FILES = """([files]) => {
  const transfer = new DataTransfer();
  for (const [name, type, data] of files) {
    const bytes = Uint8Array.from(atob(data), (char) => char.charCodeAt(0));
    transfer.items.add(new File([bytes], name, { type }));
  }
  return transfer;
}"""


COUNT_IN_FLIGHT = """(() => {
  window.inFlight = 0;
  window.mostInFlight = 0;
  const send = XMLHttpRequest.prototype.send;
  const setHeader = XMLHttpRequest.prototype.setRequestHeader;
  XMLHttpRequest.prototype.setRequestHeader = function (name, value) {
    // Only the drop zone's uploads carry this header; the grid's refreshes and the apply bar's prices do not.
    if (name === "X-Photo-Upload") this.isUpload = true;
    return setHeader.call(this, name, value);
  };
  XMLHttpRequest.prototype.send = function (body) {
    if (!this.isUpload) return send.call(this, body);
    window.inFlight += 1;
    window.mostInFlight = Math.max(window.mostInFlight, window.inFlight);
    // readyState 4 comes before "load", where the page starts the next file.
    this.addEventListener("readystatechange", () => { if (this.readyState === 4) window.inFlight -= 1; });
    return send.call(this, body);
  };
})();"""


def shot(page, number: int, name: str) -> None:
    # Thumbnails load lazily as they scroll into view; a full-page picture wants them all.
    page.evaluate(EAGER_IMAGES)
    page.screenshot(path=str(ARTIFACTS / f"photos-{number:02d}-{name}.png"), full_page=True)


def test_twenty_photos_upload_select_rename_reorder(live_server, page, user, project):
    problems = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.add_init_script(COUNT_IN_FLIGHT)
    log_in(page, live_server, user)
    page.goto(f"{live_server}/projects/{project.id}")
    assert page.locator(".upload-submit").is_hidden()  # choosing the files is enough
    shot(page, 1, "empty-listing")

    chosen = [{"name": name, "mimeType": "image/jpeg", "buffer": photo_bytes(name)} for name in PHOTOS]
    page.set_input_files("#photo-files", chosen)
    dropped = [[name, kind, base64.b64encode(photo_bytes(source)).decode()] for name, source, kind in DROPPED]
    page.dispatch_event("#photo-upload", "drop", {"dataTransfer": page.evaluate_handle(DROP_FILES, [dropped])})

    # Each file has its own line with a bar; all twenty end, without a reload: nineteen cards and one clear error.
    expect(page.locator(".upload-item")).to_have_count(20)
    expect(page.locator(".upload-item.upload-done")).to_have_count(19)
    expect(page.locator(".upload-item.upload-failed")).to_have_count(1)
    expect(page.locator(".upload-item.upload-failed .upload-status")).to_have_text(NOT_A_PHOTO)
    expect(page.locator("#image-grid .photo-card")).to_have_count(19)
    assert page.input_value("#photo-files") == ""
    assert 2 <= page.evaluate("window.mostInFlight") <= 3  # side by side, but never all twenty at once
    expect(page.locator(".photo-card .photo-duplicate")).to_have_text(["Same photo as kitchen_01.jpg"])
    headings = ["Exterior", "Bathroom", "Bedroom", "Dining room", "Living room", "Kitchen"]
    expect(page.locator(".room-heading")).to_contain_text(headings)  # rooms in the order of their first photo
    shot(page, 2, "twenty-uploaded")

    # Select all in one click; the page hears about it (the apply bar shows the price from it).
    page.evaluate("""() => document.body.addEventListener("selection-changed",
                       (event) => { window.chosenIds = event.detail.ids; })""")
    page.check("#select-all")
    expect(page.locator("#selected-count")).to_have_text("19 selected")
    assert len(page.evaluate("window.chosenIds")) == 19
    # With the keyboard: Space on one photo's box leaves it out.
    page.focus(".select-photo >> nth=0")
    page.keyboard.press("Space")
    expect(page.locator("#selected-count")).to_have_text("18 selected")
    assert len(page.evaluate("window.chosenIds")) == 18
    shot(page, 3, "selected")

    # Rename a photo in place.
    card = page.locator(".photo-card", has_text="bathroom_01.jpg")
    card.locator("summary").click()
    card.locator("input[name=title]").fill("Main bathroom")
    card.get_by_role("button", name="Rename").click()
    expect(page.locator(".photo-card .photo-link", has_text="Main bathroom")).to_have_count(1)
    expect(page.locator("#selected-count")).to_have_text("18 selected")  # the choice survives the redraw
    # A name too long for the server: the card itself says so, where the agent is looking, not the top of the page.
    card = page.locator(".photo-card", has_text="Main bathroom")
    card.locator("summary").click()
    field = card.locator("input[name=title]")
    field.evaluate("input => input.removeAttribute('maxlength')")
    field.fill("Main bathroom " * 10)
    card.get_by_role("button", name="Rename").click()
    expect(card.locator(".card-error")).to_contain_text("at most 120 characters")
    expect(page.locator("#errors")).to_be_empty()

    # Reorder within a room: the first bedroom moves later, then back with the keyboard.
    bedrooms = page.locator(".room-group", has=page.locator("h2", has_text="Bedroom")).locator(".photo-link")
    expect(bedrooms).to_have_text(["bedroom_01.jpg", "bedroom_02.jpg", "bedroom_03.jpg"])  # the order chosen
    one, two, three = bedrooms.all_inner_texts()
    page.locator(".photo-card", has_text=one).get_by_role("button", name="Move later").click()
    expect(bedrooms).to_have_text([two, one, three])
    earlier = page.locator(".photo-card", has_text=one).get_by_role("button", name="Move earlier")
    earlier.focus()
    page.keyboard.press("Enter")
    expect(bedrooms).to_have_text([one, two, three])
    expect(page.locator(".photo-card", has_text=one).get_by_role("button", name="Move later")).to_be_focused()
    numbers = page.locator(".room-group", has=page.locator("h2", has_text="Bedroom")).locator(".photo-number")
    first, second = (int(text) for text in numbers.all_inner_texts()[:2])
    assert first < second
    assert fits_width(page)
    shot(page, 4, "renamed-reordered")

    # The card links to the photo's own page.
    href = page.locator(".photo-card", has_text="kitchen_02.jpg").locator("a.photo-link").get_attribute("href")
    assert re.fullmatch(r"/images/[0-9a-f-]{36}", href)

    page.set_viewport_size({"width": 375, "height": 812})
    page.reload()
    expect(page.locator("#image-grid .photo-card")).to_have_count(19)
    assert fits_width(page)
    shot(page, 5, "phone")
    page.check("#select-all")
    expect(page.locator("#selected-count")).to_have_text("19 selected")
    assert fits_width(page)

    # The listing itself: a new name and address, then deleted after saying yes to the question.
    page.click("text=Rename or delete this listing")
    page.fill("input[name=name]", "14 Oak Lane")
    page.fill("input[name=address]", "14 Oak Lane, Bath BA1 2AB")
    page.get_by_role("button", name="Save name and address").click()
    expect(page.locator("h1")).to_have_text("14 Oak Lane")
    expect(page.locator(".listing-header hgroup p")).to_have_text("14 Oak Lane, Bath BA1 2AB")
    questions = []
    page.once("dialog", lambda dialog: (questions.append(dialog.message), dialog.accept()))
    page.click("text=Rename or delete this listing")
    assert fits_width(page)
    shot(page, 6, "listing-settings-phone")
    page.get_by_role("button", name="Delete this listing").click()
    page.wait_for_url("**/projects")
    assert questions and questions[0].startswith("Delete the listing 14 Oak Lane")
    expect(page.get_by_text("Deleted the listing 14 Oak Lane.")).to_be_visible()
    assert problems == []
