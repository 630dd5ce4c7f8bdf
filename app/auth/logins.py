"""Server-side logins: each signed-in browser is a row, so logging out, a password change or a
deactivation ends sessions and "remember me" tokens for real; only hashes of the secrets are stored."""
import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from app.auth.models import User, UserLogin
from app.extensions import db
from app.timeutil import utcnow


@dataclass(frozen=True)
class LoginSecrets:
    """What the browser keeps: the session secret, and the remember token when asked to remember."""

    session: str
    remember: str | None


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def start_login(user: User, remember: bool) -> LoginSecrets:
    """A new login for this browser; fresh random secrets every time."""
    issued = LoginSecrets(secrets.token_urlsafe(32), secrets.token_urlsafe(32) if remember else None)
    db.session.add(UserLogin(
        user_id=user.id,
        session_hash=_digest(issued.session),
        remember_hash=_digest(issued.remember) if remember else None,
        remember_expires_at=utcnow() + timedelta(days=current_app.config["REMEMBER_DAYS"]) if remember else None,
    ))
    db.session.flush()
    return issued


def user_for_session(user_id: str, session_secret: str | None) -> User | None:
    """The active user whose login this session secret belongs to, or None once it was ended."""
    if not session_secret or not str(user_id).isdigit():
        return None
    query = (
        sa.select(User).join(UserLogin, UserLogin.user_id == User.id)
        .where(UserLogin.session_hash == _digest(session_secret), User.id == int(user_id), User.active.is_(True))
    )
    return db.session.scalar(query)


def resume_remembered(remember_secret: str) -> tuple[User, LoginSecrets] | None:
    """The user of an unexpired remember token, with both secrets replaced (a token works once)."""
    login = db.session.scalar(sa.select(UserLogin).where(UserLogin.remember_hash == _digest(remember_secret)))
    if login is None or login.remember_expires_at is None or login.remember_expires_at <= utcnow():
        return None
    user = db.session.get(User, login.user_id)
    if user is None or not user.active:
        return None
    rotated = LoginSecrets(secrets.token_urlsafe(32), secrets.token_urlsafe(32))
    login.session_hash, login.remember_hash = _digest(rotated.session), _digest(rotated.remember)
    db.session.flush()
    return user, rotated


def end_login(session_secret: str | None) -> None:
    """End this browser's login: its session and its remember token."""
    if session_secret:
        db.session.execute(sa.delete(UserLogin).where(UserLogin.session_hash == _digest(session_secret)))


def end_all_logins(user: User) -> int:
    """End every login of the user, everywhere; how many there were."""
    result = db.session.execute(sa.delete(UserLogin).where(UserLogin.user_id == user.id))
    return result.rowcount or 0

