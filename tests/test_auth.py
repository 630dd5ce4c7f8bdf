"""Accounts: sign-up, login, CSRF, and what anonymous visitors get."""
import pytest

from app import create_app
from app.auth import service as auth_service
from app.auth.models import User
from app.extensions import db
from app.projects.service import workspaces_for
from tests.factories import PASSWORD


def test_signup_creates_user_with_personal_workspace_and_logs_in(client):
    response = client.post("/signup", data={"email": "Jane@Example.com", "password": "long enough pw"})
    assert response.status_code == 302
    user = db.session.scalar(db.select(User).where(User.email == "jane@example.com"))
    assert user is not None and user.role == "agent"
    assert user.password_hash != "long enough pw"
    assert len(workspaces_for(user)) == 1
    assert client.get("/projects").status_code == 200


def test_signup_with_short_password_explains_the_rule(client):
    response = client.post("/signup", data={"email": "a@example.com", "password": "short"})
    assert response.status_code == 400
    assert b"at least 8 characters" in response.data


def test_signup_twice_with_same_email_is_refused(client, user):
    response = client.post("/signup", data={"email": user.email, "password": "another password"})
    assert response.status_code == 409
    assert b"already exists" in response.data


def test_login_with_wrong_password_fails(client, user):
    response = client.post("/login", data={"email": user.email, "password": "wrong password"})
    assert response.status_code == 400
    assert b"Wrong email or password" in response.data


def test_login_does_not_redirect_off_site(client, user):
    response = client.post("/login?next=//evil.example/", data={"email": user.email, "password": PASSWORD})
    assert response.headers["Location"] == "/projects"


def test_deactivated_user_cannot_log_in(client, user):
    user.active = False
    db.session.commit()
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 400


def test_anonymous_page_request_redirects_to_login(client):
    response = client.get("/projects")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_anonymous_htmx_request_gets_401_with_hx_redirect(client):
    response = client.get("/projects", headers={"HX-Request": "true"})
    assert response.status_code == 401
    assert response.headers["HX-Redirect"].startswith("/login")


def test_logout_requires_post_and_ends_session(logged_in):
    assert logged_in.get("/logout").status_code == 405
    answer = logged_in.post("/logout")
    assert answer.status_code == 302 and answer.headers["Location"] == "/"
    assert logged_in.get("/projects").status_code == 302
    assert "Log in" in logged_in.get("/").get_data(as_text=True)  # the home page, no longer the listings


@pytest.fixture
def csrf_client(config):
    app = create_app({**config, "WTF_CSRF_ENABLED": True})
    with app.app_context():
        yield app.test_client()


def test_forms_without_csrf_token_are_rejected(csrf_client):
    response = csrf_client.post("/signup", data={"email": "b@example.com", "password": "long enough pw"})
    assert response.status_code == 400
    assert b"CSRF" in response.data
    assert db.session.scalar(db.select(User).where(User.email == "b@example.com")) is None


def test_forms_with_csrf_token_from_the_page_succeed(csrf_client):
    page = csrf_client.get("/signup").get_data(as_text=True)
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    response = csrf_client.post(
        "/signup", data={"email": "c@example.com", "password": "long enough pw", "csrf_token": token}
    )
    assert response.status_code == 302


def test_passwords_are_hashed_with_scrypt_unless_configured_and_a_bad_method_fails_at_startup(tmp_path):
    from app.config import load_config

    assert load_config({"STAGECRAFT_VAR_DIR": str(tmp_path)})["PASSWORD_HASH_METHOD"] == "scrypt"
    with pytest.raises(ValueError, match="PASSWORD_HASH_METHOD"):
        load_config({"STAGECRAFT_VAR_DIR": str(tmp_path), "PASSWORD_HASH_METHOD": "md5"})


def test_a_password_hashed_one_way_still_logs_in_after_the_method_changes(app, client):
    auth_service.create_user("switch@example.com", "long enough password")
    db.session.commit()
    app.config["PASSWORD_HASH_METHOD"] = "scrypt"
    assert client.post("/login", data={"email": "switch@example.com", "password": "long enough password"}).status_code == 302
