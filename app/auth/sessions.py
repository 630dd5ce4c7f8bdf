"""The browser side of logins: Flask-Login reads the session through the logins table, and the
remember-me cookie is a random token that is replaced each time it is used."""
from flask import after_this_request, current_app, request, session
from flask_login import login_user, logout_user

from app.auth import logins
from app.auth.models import User
from app.extensions import db, login_manager

SESSION_KEY = "login"
REMEMBER_COOKIE = "stagecraft_remember"
# Flask-Login's own remember cookie (a signed user id valid for a year) is no longer issued; old ones are dropped.
LEGACY_REMEMBER_COOKIE = "remember_token"


def load_user(user_id: str) -> User | None:
    """The session's user, only while its login row exists (logout and revocations delete it)."""
    return logins.user_for_session(user_id, session.get(SESSION_KEY))


@login_manager.request_loader
def load_remembered(_request) -> User | None:
    """A browser without a session but with a remember token: log it in again and hand it a new token."""
    token = request.cookies.get(REMEMBER_COOKIE)
    resumed = logins.resume_remembered(token) if token else None
    if resumed is None:
        if token:
            _set_remember_cookie(None)
        return None
    user, issued = resumed
    _begin_session(user, issued)
    # The used token is dead from now on, whatever the view does with its own transaction.
    db.session.commit()
    return user


def log_in(user: User, remember: bool) -> None:
    """Start a login for this browser (the caller commits)."""
    _begin_session(user, logins.start_login(user, remember))


def log_out() -> None:
    """End this browser's login (session and remember token) and forget its cookies (the caller commits)."""
    logins.end_login(session.get(SESSION_KEY))
    session.pop(SESSION_KEY, None)
    logout_user()
    _set_remember_cookie(None)


def _begin_session(user: User, issued: logins.LoginSecrets) -> None:
    session.clear()  # nothing of an earlier login carries over
    session[SESSION_KEY] = issued.session
    login_user(user, remember=False)
    if issued.remember:
        _set_remember_cookie(issued.remember)


def _set_remember_cookie(token: str | None) -> None:
    @after_this_request
    def write(response):
        config = current_app.config
        response.delete_cookie(LEGACY_REMEMBER_COOKIE)
        if token is None:
            response.delete_cookie(REMEMBER_COOKIE)
            return response
        response.set_cookie(
            REMEMBER_COOKIE, token, max_age=config["REMEMBER_DAYS"] * 24 * 3600, httponly=True,
            secure=config["REMEMBER_COOKIE_SECURE"], samesite=config["REMEMBER_COOKIE_SAMESITE"],
        )
        return response
