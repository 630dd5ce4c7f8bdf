"""Keys of the page forms that charge: one per rendered form, so the same confirm sent twice does the work once."""
import secrets

from sqlalchemy.exc import IntegrityError

from app.errors import ApiError
from app.extensions import db

FORM_KEY_FIELD = "form_key"
FORM_KEY_LENGTH = 64


def new_form_key() -> str:
    """A fresh key for one rendered form (templates call it as form_key())."""
    return secrets.token_urlsafe(18)


def form_key_of(form) -> str | None:
    """The form's key, or None when it sent none (a client without the page); 400 for one that is not ours."""
    value = (form.get(FORM_KEY_FIELD) or "").strip()
    if not value:
        return None
    if len(value) > FORM_KEY_LENGTH:
        raise ApiError("This form is out of date: reload the page and try again.", code="invalid_form_key")
    return value


def once_per_key(earlier, start):
    """What a form's key already started (`earlier()`), else `start()`, committed: the view's one commit.

    The same form sent at the same moment loses on the key's unique index and answers what the first started.
    """
    done = earlier()
    if done is not None:
        return done
    try:
        started = start()
        db.session.commit()
        return started
    except IntegrityError:
        db.session.rollback()
        done = earlier()
        if done is None:
            raise
        return done
