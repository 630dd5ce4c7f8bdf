"""Keys of the page forms that charge: one per rendered form, so the same confirm sent twice does the work once."""
import secrets

from app.errors import ApiError

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
