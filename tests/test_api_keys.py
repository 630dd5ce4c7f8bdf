"""API keys: shown once, stored hashed, accepted in three header forms, revocable."""
import pytest

from app.auth.models import ApiKey
from app.extensions import db
from tests.factories import make_api_key


def test_key_created_on_page_is_shown_once_and_stored_hashed(logged_in, project):
    response = logged_in.post(f"/projects/{project.id}/keys", data={"name": "Website"})
    page = response.get_data(as_text=True)
    plaintext = page.split('id="new-api-key">')[1].split("<")[0]
    stored = db.session.scalar(db.select(ApiKey).where(ApiKey.project_id == project.id))
    assert plaintext.startswith("sc_") and len(plaintext) > 40
    assert stored.key_hash != plaintext and plaintext not in stored.key_hash
    assert plaintext.startswith(stored.prefix)
    again = logged_in.get(f"/projects/{project.id}/keys").get_data(as_text=True)
    assert plaintext not in again
    assert stored.prefix in again


@pytest.mark.parametrize(
    "header, template",
    [("X-API-Key", "{key}"), ("Authorization", "Bearer {key}"), ("Authorization", "Key {key}")],
)
def test_key_is_accepted_in_each_header_form(client, project, header, template):
    key = make_api_key(project)
    response = client.get("/api/v1/images/missing", headers={header: template.format(key=key)})
    assert response.status_code == 404  # authenticated, then the image is not found


def test_use_records_last_used_time(client, project):
    key = make_api_key(project)
    client.get("/api/v1/images/missing", headers={"X-API-Key": key})
    stored = db.session.scalar(db.select(ApiKey).where(ApiKey.project_id == project.id))
    db.session.refresh(stored)
    assert stored.last_used_at is not None


def test_missing_and_wrong_keys_get_401_with_a_message(client):
    missing = client.get("/api/v1/images/x")
    assert missing.status_code == 401
    assert "X-API-Key" in missing.get_json()["error"]["message"]
    wrong = client.get("/api/v1/images/x", headers={"X-API-Key": "sc_not-a-real-key"})
    assert wrong.status_code == 401
    assert wrong.get_json() == {"success": False, "error": {"message": "Invalid API key.", "code": "unauthorized"}}


def test_revoked_key_is_refused(logged_in, project):
    key = make_api_key(project)
    stored = db.session.scalar(db.select(ApiKey).where(ApiKey.project_id == project.id))
    assert logged_in.post(f"/projects/{project.id}/keys/{stored.id}/revoke").status_code == 302
    response = logged_in.get("/api/v1/images/x", headers={"X-API-Key": key})
    assert response.status_code == 401
    assert "revoked" in response.get_json()["error"]["message"]


def test_expired_key_is_refused_and_page_sets_expiry_and_limit(logged_in, project, client):
    response = logged_in.post(f"/projects/{project.id}/keys", data={"name": "Short", "expires_in_days": "1", "rate_limit": "7"})
    stored = db.session.scalar(db.select(ApiKey).where(ApiKey.project_id == project.id))
    assert stored.rate_limit == 7 and stored.expires_at is not None
    plaintext = response.get_data(as_text=True).split('id="new-api-key">')[1].split("<")[0]
    stored.expires_at = stored.created_at  # as if a day had passed
    db.session.commit()
    refused = client.get("/api/v1/images/x", headers={"X-API-Key": plaintext})
    assert refused.status_code == 401 and "expired" in refused.get_json()["error"]["message"]
    bad = logged_in.post(f"/projects/{project.id}/keys", data={"name": "Bad", "expires_in_days": "0"})
    assert bad.status_code == 400 and "Expiry must be" in bad.get_data(as_text=True)
