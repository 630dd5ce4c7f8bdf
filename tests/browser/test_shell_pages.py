"""The shell in Chromium at desk and phone widths: home → sign up → dashboard → new listing → settings → developers."""
import pytest

from app.credits import service as credits
from app.extensions import db
from app.projects.service import workspaces_for
from app.auth.models import User
from tests.browser.conftest import ARTIFACTS

VIEWPORTS = {"desk": {"width": 1280, "height": 900}, "phone": {"width": 375, "height": 800}}
# Elements that reach past the right edge of the viewport (the open account menu included).
WIDEST = """[...document.querySelectorAll('body *')]
  .filter(e => e.getClientRects().length && e.getBoundingClientRect().right > window.innerWidth + 1)
  .map(e => `${e.tagName}#${e.id}.${e.className} ${Math.round(e.getBoundingClientRect().right)}`)"""


@pytest.mark.parametrize("width", VIEWPORTS)
def test_a_new_agent_goes_from_home_to_developers_without_errors_or_sideways_scroll(live_server, page, width):
    errors, failed = [], []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("response", lambda response: response.status >= 400 and failed.append(f"{response.status} {response.url}"))
    page.set_viewport_size(VIEWPORTS[width])
    page.emulate_media(reduced_motion="reduce")  # screenshots show the menu open, not half-way through fading in
    shots = iter(range(1, 20))

    def check(name: str) -> None:
        page.wait_for_load_state("networkidle")
        page.screenshot(path=str(ARTIFACTS / f"shell-{next(shots):02d}-{width}-{name}.png"), full_page=True)
        assert page.evaluate(WIDEST) == [], f"{name}: wider than the window"
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), f"{name} scrolls sideways"
        assert errors == [] and failed == [], (name, errors, failed)

    page.goto(live_server)
    page.wait_for_selector("img-comparison-slider img[slot=second]")
    check("home")

    page.click("main a:has-text('Sign up')")
    email = f"new-agent-{width}@example.com"
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", "a long enough password")
    page.click("main button[type=submit]")
    page.wait_for_selector("h1:has-text('Your listings')")
    assert page.inner_text("#balance").strip().startswith("50 credits")
    check("dashboard-empty")

    page.fill("input[name=name]", "12 Oak Lane")
    page.fill("input[name=address]", "12 Oak Lane, Springfield")
    page.fill("input[name=room_count]", "4")
    page.click("button:has-text('Create listing')")
    page.wait_for_url("**/projects/*")
    listing_url = page.url
    page.click("header a:has-text('Listings')")
    page.wait_for_selector(".listing-card:has-text('12 Oak Lane, Springfield')")
    check("dashboard")

    # The balance follows a change without a reload when the page says work ended.
    workspace = workspaces_for(db.session.query(User).filter_by(email=email).one())[0]
    credits.adjust(workspace.id, -45, None, "test spend")
    db.session.commit()
    page.evaluate("document.body.dispatchEvent(new Event('balance-changed'))")
    page.wait_for_selector("#balance.low:has-text('5 credits')")
    page.wait_for_selector("#credits-summary.low:has-text('5 credits left')")

    # The account menu by keyboard: focus its summary, open it with Enter, reach Settings.
    page.focus(".account-menu summary")
    page.keyboard.press("Enter")
    page.wait_for_selector(".account-menu[open] a:has-text('Log out'), .account-menu[open] button:has-text('Log out')")
    check("account-menu")
    page.click(".account-menu a:has-text('Settings')")
    page.wait_for_selector("h1:has-text('Settings')")
    assert "Held" not in page.inner_text("#credits") and "Credits added" in page.inner_text("#credits")
    page.fill("input[name=watermark_text]", "Staged by Oak Realty")
    page.click("button:has-text('Save settings')")
    page.wait_for_selector("text=Settings saved.")
    check("settings")

    page.click("a:has-text('Developers area')")
    page.fill("input[name=name]", "Our website")
    page.click("button:has-text('Create API project')")
    page.wait_for_selector(".dev-project:has-text('Our website') a:has-text('API keys')")
    check("developers")

    page.goto(f"{listing_url}/generations")
    page.wait_for_selector("#generations-table")
    assert "Done" in page.inner_text("select[name=status]")
    check("generations")
    page.goto(f"{live_server}/presets")
    page.wait_for_selector(".preset-card.unavailable:has-text('Not available yet')")
    check("presets")

    page.click(".account-menu summary")
    page.click(".account-menu button:has-text('Log out')")
    page.wait_for_selector("h1:has-text('Listing photos that sell')")  # back on the home page
    assert errors == [] and failed == [], (errors, failed)
