"""Accounts and API keys: the rules, no request objects. Services flush, views commit."""
import hashlib
import re
import secrets
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from werkzeug.security import check_password_hash, generate_password_hash

from app.auth.models import ROLES, ApiKey, User
from app import database
from app.credits import service as credits
from app.errors import ApiError
from app.extensions import db
from app.projects.models import Project
from app.projects.service import create_workspace, get_in_project
from app.timeutil import utcnow

EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD_LENGTH = 8
API_KEY_PREFIX = "sc_"


def normalize_email(email: str) -> str:
    return (email or "").strip().lower()


def create_user(email: str, password: str, role: str = "agent") -> User:
    """Create a user with a personal workspace; reject bad emails, short passwords and duplicates."""
    email = normalize_email(email)
    if not EMAIL_PATTERN.match(email):
        raise ApiError("Enter a valid email address, like name@example.com.")
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise ApiError(f"Choose a password of at least {MIN_PASSWORD_LENGTH} characters.")
    if role not in ROLES:
        raise ApiError(f"Role must be one of: {', '.join(ROLES)}.")
    if db.session.scalar(sa.select(User.id).where(User.email == email)):
        raise ApiError("An account with this email already exists; log in instead.", status=409, code="conflict")
    password_hash = generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])
    user = User(email=email, password_hash=password_hash, role=role)
    db.session.add(user)
    db.session.flush()
    workspace = create_workspace(f"{email.split('@')[0]}'s workspace", owner=user)
    credits.grant_free_credits(workspace)
    return user


def authenticate(email: str, password: str) -> User | None:
    """The active user with this email and password, or None."""
    user = db.session.scalar(sa.select(User).where(User.email == normalize_email(email)))
    if user and user.active and check_password_hash(user.password_hash, password or ""):
        return user
    return None


def change_password(user: User, current: str, new: str) -> None:
    """Set a new password after checking the current one (the caller ends the user's other logins)."""
    if not check_password_hash(user.password_hash, current or ""):
        raise ApiError("Your current password is not right; type it again.", status=400)
    if len(new or "") < MIN_PASSWORD_LENGTH:
        raise ApiError(f"Choose a new password of at least {MIN_PASSWORD_LENGTH} characters.")
    user.password_hash = generate_password_hash(new, method=current_app.config["PASSWORD_HASH_METHOD"])
    db.session.flush()


def hash_api_key(plaintext: str) -> str:
    # Keys are 256-bit random tokens, so a fast hash is enough: there is nothing to brute-force.
    return hashlib.sha256(plaintext.encode()).hexdigest()


MAX_KEY_RATE_LIMIT = 1_000_000
MAX_KEY_LIFETIME_DAYS = 3650


def create_api_key(
    project: Project,
    name: str,
    created_by: User | None = None,
    expires_in_days: int | None = None,
    rate_limit: int | None = None,
) -> tuple[ApiKey, str]:
    """Create a key for a project; return the row and the plaintext, which is never stored."""
    name = (name or "").strip() or "API key"
    if expires_in_days is not None and not 1 <= expires_in_days <= MAX_KEY_LIFETIME_DAYS:
        raise ApiError(f"Expiry must be from 1 to {MAX_KEY_LIFETIME_DAYS} days (or empty for no expiry).")
    if rate_limit is not None and not 1 <= rate_limit <= MAX_KEY_RATE_LIMIT:
        raise ApiError(f"The rate limit must be from 1 to {MAX_KEY_RATE_LIMIT:,} requests per hour.")
    plaintext = API_KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(
        project_id=project.id,
        name=name[:100],
        prefix=plaintext[:10],
        key_hash=hash_api_key(plaintext),
        created_by_id=created_by.id if created_by else None,
        expires_at=utcnow() + timedelta(days=expires_in_days) if expires_in_days else None,
        rate_limit=rate_limit,
    )
    db.session.add(key)
    db.session.flush()
    return key, plaintext


def find_api_key(plaintext: str) -> ApiKey:
    """The usable key matching the plaintext; ApiError 401 saying why otherwise."""
    if not plaintext:
        raise ApiError(
            "Missing API key: send it as X-API-Key or Authorization: Bearer <key>.", status=401, code="unauthorized"
        )
    key = db.session.scalar(sa.select(ApiKey).where(ApiKey.key_hash == hash_api_key(plaintext.strip())))
    now = utcnow()
    if key is None:
        raise ApiError("Invalid API key.", status=401, code="unauthorized")
    if key.revoked_at is not None:
        raise ApiError("This API key has been revoked.", status=401, code="unauthorized")
    if not key.is_usable(now):
        raise ApiError("This API key has expired.", status=401, code="unauthorized")
    return key


# Last use is shown to the minute; writing it at most this often keeps it off most requests' path.
LAST_USE_PRECISION = timedelta(minutes=1)


def key_use_is_news(last_used_at) -> bool:
    """Whether a use now should be written down (the last one noted is over a minute old, or there is none)."""
    return last_used_at is None or utcnow() - last_used_at >= LAST_USE_PRECISION


def record_key_use(key_id: int) -> None:
    """Note that a key was used now, unless another request noted it within the last minute."""
    now = utcnow()
    db.session.execute(
        sa.update(ApiKey)
        .where(ApiKey.id == key_id, sa.or_(ApiKey.last_used_at.is_(None), ApiKey.last_used_at < now - LAST_USE_PRECISION))
        .values(last_used_at=now)
        .execution_options(synchronize_session=False)
    )


# A busy moment skips the note (the next request of the minute writes it) rather than delaying the answer.
BOOKKEEPING_LOCK_WAIT = 0.05
KEY_USE_DUE = "stagecraft_key_use_due"


def note_key_use_at_commit(key) -> None:
    """Have the session's next commit note the key's use too, if the last note is over a minute old."""
    if key_use_is_news(key.last_used_at):
        db.session.info[KEY_USE_DUE] = key.id


@sa.event.listens_for(sa.orm.Session, "before_commit")
def _note_key_use_with_the_work(session) -> None:
    """The key's last use rides in the transaction of the work it did, so a request commits once."""
    if session.in_nested_transaction() or KEY_USE_DUE not in session.info:
        return
    key_id = session.info.pop(KEY_USE_DUE)
    try:
        with database.lock_wait(BOOKKEEPING_LOCK_WAIT):
            record_key_use(key_id)
    except Exception as error:
        # Only a work that wrote nothing yet waits for the lock here; when it is busy, the note is skipped.
        if not database.is_busy(error):
            raise


def revoke_api_key(project: Project, key_id: int) -> ApiKey:
    """Revoke one of the project's keys (404 for a key of another project)."""
    key = get_in_project(project, ApiKey, key_id, not_found="API key not found.")
    key.revoked_at = key.revoked_at or utcnow()
    return key


def project_api_keys(project: Project) -> list[ApiKey]:
    return list(db.session.scalars(sa.select(ApiKey).where(ApiKey.project_id == project.id).order_by(ApiKey.id.desc())))


def ensure_admin(email: str | None, password: str | None) -> tuple[User, str | None] | None:
    """Create the first admin if there is none; return it and its generated password (None if given)."""
    if db.session.scalar(sa.select(User.id).where(User.role == "admin").limit(1)):
        return None
    generated = None
    if not password:
        generated = password = secrets.token_urlsafe(12)
    return create_user(email or "admin@stagecraft.local", password, role="admin"), generated
