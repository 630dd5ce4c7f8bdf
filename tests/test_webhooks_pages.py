"""The callbacks page and its actions: the signing secret and its rotation, test messages, "Send again",
and the API document's description of the callback."""
from datetime import timedelta

from app.extensions import db
from app.webhooks.models import DeliveryStatus
from tests.factories import make_api_key, make_project, make_user
from tests.test_webhooks import only_delivery, start_generation


def test_rotated_secret_signs_beside_the_old_one_for_a_day(logged_in, app, project, receiver, worker):
    old_secret = project.webhook_secret
    response = logged_in.post(f"/projects/{project.id}/callbacks/rotate")
    assert response.status_code == 302
    db.session.refresh(project)
    new_secret = project.webhook_secret
    assert new_secret != old_secret and new_secret.startswith("whsec_")
    assert new_secret in logged_in.get(f"/projects/{project.id}/callbacks").get_data(as_text=True)

    logged_in.post(f"/projects/{project.id}/callbacks/test", data={"url": receiver.url})
    worker()
    project.webhook_secret_rotated_at -= timedelta(hours=25)
    db.session.commit()
    logged_in.post(f"/projects/{project.id}/callbacks/test", data={"url": receiver.url})
    worker()

    during, after = receiver.received
    assert during.verifies_with(new_secret) and during.verifies_with(old_secret)
    assert after.verifies_with(new_secret) and not after.verifies_with(old_secret)


def test_test_message_is_signed_and_shown_in_the_log(logged_in, project, receiver, worker):
    response = logged_in.post(
        f"/projects/{project.id}/callbacks/test", data={"url": receiver.url}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert "Test message queued" in response.get_data(as_text=True)

    worker()

    [received] = receiver.received
    assert received.verified and received.payload["type"] == "webhook.test"
    assert received.payload["data"]["projectId"] == project.id
    page = logged_in.get(f"/projects/{project.id}/callbacks").get_data(as_text=True)
    assert "Test message" in page and "Received" in page and "answered 200" in page
    assert "/hooks/stagecraft" in page


def test_test_message_to_a_private_address_says_why_on_the_page(logged_in, app, project):
    app.config["OUTBOUND_ALLOWLIST"] = ()
    response = logged_in.post(
        f"/projects/{project.id}/callbacks/test", data={"url": "http://192.168.1.20/hook"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 400
    assert "not a public internet address" in response.get_data(as_text=True)
    assert "callbackUrl" not in response.get_data(as_text=True)


def test_redeliver_sends_the_same_message_again(logged_in, api_client, project, receiver, worker):
    start_generation(api_client, receiver.url)
    worker()
    delivery = only_delivery()

    response = logged_in.post(
        f"/projects/{project.id}/callbacks/{delivery.id}/redeliver", headers={"HX-Request": "true"}
    )
    assert response.status_code == 200 and f'id="delivery-{delivery.id}"' in response.get_data(as_text=True)
    worker()

    first, second = receiver.received
    assert first.webhook_id == second.webhook_id == delivery.id
    assert first.body == second.body and second.verified
    delivery = only_delivery()
    assert delivery.status is DeliveryStatus.DELIVERED and delivery.attempt_count == 2


def test_redeliver_of_another_workspaces_delivery_is_404(logged_in, api_client, receiver, worker):
    other = make_project(make_user())
    other_client = type(api_client)(api_client.client, make_api_key(other))
    start_generation(other_client, receiver.url)
    worker()
    delivery = only_delivery()
    assert logged_in.get(f"/projects/{other.id}/callbacks").status_code == 404
    response = logged_in.post(f"/projects/{other.id}/callbacks/{delivery.id}/redeliver")
    assert response.status_code == 404


def test_the_api_document_describes_the_callback(client):
    document = client.get("/api/openapi.json").get_json()
    callback = document["webhooks"]["generationFinished"]["post"]
    assert {p["name"] for p in callback["parameters"]} == {"webhook-id", "webhook-timestamp", "webhook-signature"}
    create = document["components"]["schemas"]["GenerationCreate"]["properties"]
    assert "callbackUrl" in create
