"""The callbacks page on a phone: the signing secret, a refused test address, the log, and "Send again"."""
from datetime import timedelta

from app.extensions import db
from app.timeutil import utcnow
from app.webhooks.models import DeliveryStatus, WebhookAttempt, WebhookDelivery
from tests.browser.conftest import ARTIFACTS, log_in
from tests.factories import make_project, make_user

PHONE = {"width": 375, "height": 800}
# Elements of the page's content that reach past the right edge of the viewport.
WIDEST = """[...document.querySelectorAll('main *')]
  .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
  .map(e => `${e.tagName}#${e.id}.${e.className} ${Math.round(e.getBoundingClientRect().right)}`)"""


def add_delivery(project, status, event_type, url, attempts):
    started = utcnow() - timedelta(minutes=30)
    delivery = WebhookDelivery(
        project_id=project.id, event_type=event_type, url=url, body="{}", status=status,
        attempt_count=len(attempts), attempt_limit=6, created_at=started,
        next_attempt_at=utcnow() + timedelta(minutes=9) if status is DeliveryStatus.PENDING else None,
    )
    db.session.add(delivery)
    db.session.flush()
    for number, (code, error, excerpt) in enumerate(attempts, start=1):
        db.session.add(WebhookAttempt(
            delivery_id=delivery.id, number=number, attempted_at=started + timedelta(minutes=number),
            status_code=code, latency_ms=120 * number if code else 15000, error=error, response_excerpt=excerpt,
        ))
    db.session.commit()
    return delivery


def test_callbacks_page_fits_a_phone_and_sends_again(live_server, page):
    # A long address: the site header must still fit the phone (it cuts the address short).
    user = make_user("alexandra.montgomery-fitzwilliam.callbacks@harbourview-realestate-partners.example.com")
    project = make_project(user, "4 Harbour View")
    long_url = "https://crm.example-brokerage.com/integrations/stagecraft/callbacks/received-photo-jobs?token=abc"
    retrying = add_delivery(project, DeliveryStatus.PENDING, "generation.succeeded", long_url, [
        (503, "It answered 503; only a 2xx answer counts as received.", '{"error": "maintenance window, ' + "x" * 300 + '"}'),
        (None, "crm.example-brokerage.com/integrations did not answer in time.", None),
    ])
    add_delivery(project, DeliveryStatus.DELIVERED, "webhook.test", "https://example.com/hook", [(200, None, "ok")])

    page.set_viewport_size(PHONE)
    log_in(page, live_server, user)
    page.goto(f"{live_server}/projects/{project.id}/keys")
    page.click("a:has-text('Callbacks')")
    page.wait_for_selector("h1:has-text('Callbacks')")

    page.click("text=Show the secret")
    assert page.input_value("#webhook-secret").startswith("whsec_")
    assert "token=abc" not in page.content()  # the address's query may hold the receiver's own secret
    page.screenshot(path=str(ARTIFACTS / "callbacks-phone.png"), full_page=True)
    assert page.evaluate(WIDEST) == [], "wider than a phone"
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], "the page scrolls sideways"

    page.fill("input[name=url]", "http://192.168.1.20/hook")
    page.click("text=Send test message")
    page.wait_for_selector("#callback-log .flash.error")
    assert "not a public internet address" in page.inner_text("#callback-log .flash.error")

    page.click(f"#delivery-{retrying.id} button:has-text('Send again')")
    page.wait_for_selector(f"#delivery-{retrying.id} .badge:has-text('Trying again')")
    page.screenshot(path=str(ARTIFACTS / "callbacks-phone-sent-again.png"), full_page=True)
    assert page.evaluate(WIDEST) == [], "wider than a phone"
