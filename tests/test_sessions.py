"""Sessions that end: logout, a password change, deactivation and an admin's "log out everywhere"
stop a copied session cookie and the remember-me cookie at once; remember tokens are random, hashed,
expire and work once."""
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app import create_app
from app.auth.models import UserLogin
from app.extensions import db
from app.timeutil import utcnow
from tests import factories
from tests.factories import PASSWORD

LISTINGS = "/projects"


@pytest.fixture
def web(app, config):
    """The browsers' own app: test requests on `app` share the test's app context (and Flask-Login's
    cached user in g), so browsers that must not see each other's logins talk to a separate instance."""
    return create_app(config)
REMEMBER = "stagecraft_remember"


def log_in(web, user, remember=False):
    """A fresh browser logged in as user; its cookies as they are right after the login."""
    browser = web.test_client()
    data = {"email": user.email, "password": PASSWORD, **({"remember": "1"} if remember else {})}
    assert browser.post("/login", data=data).status_code == 302
    return browser


def cookies(browser) -> dict:
    return {cookie.key: cookie.value for cookie in browser._cookies.values()}


def copy_of(web, cookie_values: dict, only=None):
    """Another browser carrying copies of the given cookies (an attacker's, or a second tab)."""
    browser = web.test_client()
    for name, value in cookie_values.items():
        if only is None or name in only:
            browser.set_cookie(name, value)
    return browser


def opens_listings(browser) -> bool:
    return browser.get(LISTINGS).status_code == 200


def test_a_session_cookie_copied_before_logout_is_refused_after_it(web, user):
    browser = log_in(web, user)
    copied = cookies(browser)
    assert opens_listings(copy_of(web, copied))

    browser.post("/logout")

    assert not opens_listings(copy_of(web, copied))
    assert not opens_listings(browser)


def test_the_remember_cookie_logs_in_once_rotates_and_dies_at_logout(web, user):
    browser = log_in(web, user, remember=True)
    first_token = cookies(browser)[REMEMBER]
    remembered = copy_of(web, cookies(browser), only={REMEMBER})  # the browser restarted: no session cookie

    assert opens_listings(remembered)
    rotated = cookies(remembered)[REMEMBER]
    assert rotated != first_token
    assert not opens_listings(copy_of(web, {REMEMBER: first_token}))  # a used token is spent

    remembered.post("/logout")
    assert not opens_listings(copy_of(web, {REMEMBER: rotated}))


def test_remember_tokens_are_random_per_login_and_stored_only_as_hashes(web, user):
    tokens = {cookies(log_in(web, user, remember=True))[REMEMBER] for _ in range(3)}
    assert len(tokens) == 3
    stored = db.session.scalars(sa.select(UserLogin.remember_hash).where(UserLogin.user_id == user.id)).all()
    assert len(stored) == 3 and not tokens & set(stored)


def test_an_expired_remember_token_is_refused(web, user):
    token = cookies(log_in(web, user, remember=True))[REMEMBER]
    db.session.execute(sa.update(UserLogin).values(remember_expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert not opens_listings(copy_of(web, {REMEMBER: token}))


def test_changing_the_password_logs_out_every_other_browser(web, user):
    other = log_in(web, user, remember=True)
    other_cookies = cookies(other)
    browser = log_in(web, user)
    assert browser.get("/account/password").status_code == 200

    wrong = browser.post("/account/password", data={"current_password": "nope", "new_password": "a new long password"})
    assert wrong.status_code == 400 and "current password" in wrong.get_data(as_text=True)
    changed = browser.post("/account/password", data={"current_password": PASSWORD, "new_password": "a new long password"})
    assert changed.status_code == 302

    assert opens_listings(browser)  # this browser stays logged in
    assert not opens_listings(copy_of(web, other_cookies))
    assert not opens_listings(copy_of(web, other_cookies, only={REMEMBER}))
    assert web.test_client().post("/login", data={"email": user.email, "password": "a new long password"}).status_code == 302


@pytest.fixture
def admin(web):
    admin = factories.make_user(role="admin")
    return log_in(web, admin)


def test_deactivation_ends_open_sessions_and_remember_tokens(web, user, admin):
    browser = log_in(web, user, remember=True)
    saved = cookies(browser)

    assert admin.post(f"/admin/users/{user.id}/deactivate").status_code == 302
    db.session.refresh(user)
    user.active = True  # even if reactivated later, the old logins stay ended
    db.session.commit()

    assert not opens_listings(copy_of(web, saved))
    assert not opens_listings(copy_of(web, saved, only={REMEMBER}))


def test_an_admin_logs_a_user_out_everywhere(web, user, admin):
    first, second = log_in(web, user), log_in(web, user, remember=True)
    saved = cookies(second)

    answer = admin.post(f"/admin/users/{user.id}/logout-everywhere")
    assert answer.status_code == 302

    assert not opens_listings(first)
    assert not opens_listings(copy_of(web, saved, only={REMEMBER}))
    assert db.session.scalar(sa.select(sa.func.count()).select_from(UserLogin).where(UserLogin.user_id == user.id)) == 0


def test_a_person_logs_themselves_out_everywhere(web, user):
    first, second = log_in(web, user), log_in(web, user)
    assert first.post("/account/logout-everywhere").status_code == 302
    assert not opens_listings(first) and not opens_listings(second)
