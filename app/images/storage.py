"""Object storage for image files, and signed, expiring URLs to fetch them."""
import hashlib
import hmac
import os
import time
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

from flask import current_app

from app.urls import app_path

FULL_DEVICE = "/dev/full"  # writes fail with ENOSPC, as on a full disk
SAFE_KEY_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789-_./")
# How long links signed inside links_valid_for() last, instead of SIGNED_URL_TTL.
_link_lifetime: ContextVar[int | None] = ContextVar("link_lifetime", default=None)


class LocalStorage:
    """Files under one directory, written atomically so a reader never sees half a file."""

    def __init__(self, root: str, fault_device: str | None = None):
        self.root = Path(root).resolve()
        # Tests only (config STORAGE_FAULT_DEVICE, e.g. /dev/full): every write goes to that device, so the
        # kernel's own error (ENOSPC from /dev/full) comes out of the real write path.
        self.fault_device = fault_device

    def path(self, key: str) -> Path:
        if not key or set(key) - SAFE_KEY_CHARS or ".." in key or key.startswith("/"):
            raise ValueError(f"invalid storage key {key!r}")
        return self.root / key

    def put(self, key: str, data: bytes) -> None:
        with self.writing(key) as file:
            file.write(data)

    @contextmanager
    def writing(self, key: str):
        """A file to write an object into piece by piece; it appears under key, whole, only if the block succeeds."""
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
        try:
            with open(self.fault_device or partial, "wb") as file:
                yield file
            os.replace(partial, target)
        finally:
            partial.unlink(missing_ok=True)

    def get(self, key: str) -> bytes:
        return self.path(key).read_bytes()

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)


def storage() -> LocalStorage:
    """The current app's storage."""
    config = current_app.config
    return LocalStorage(config["STORAGE_DIR"], config.get("STORAGE_FAULT_DEVICE") or _switched_fault(config))


def _switched_fault(config) -> str | None:
    """Tests only: /dev/full while the file STORAGE_FAULT_SWITCH names exists, so a running product's disk
    can be filled and freed by the fault suite without a restart."""
    switch = config.get("STORAGE_FAULT_SWITCH")
    return FULL_DEVICE if switch and os.path.exists(switch) else None


def _signature(key: str, expires: int) -> str:
    secret = current_app.config["SECRET_KEY"].encode()
    return hmac.new(secret, f"{key}:{expires}".encode(), hashlib.sha256).hexdigest()[:32]


@contextmanager
def links_valid_for(seconds: int):
    """Signed links made inside the block last this long: a callback's body is built once and resent for hours."""
    token = _link_lifetime.set(seconds)
    try:
        yield
    finally:
        _link_lifetime.reset(token)


def sign(key: str, ttl: int | None = None) -> dict:
    """Query parameters that grant access to one stored file until they expire."""
    expires = int(time.time()) + (ttl or _link_lifetime.get() or current_app.config["SIGNED_URL_TTL"])
    return {"expires": expires, "sig": _signature(key, expires)}


def verify(key: str, expires: str, sig: str) -> bool:
    """Whether a signature is genuine and not expired."""
    try:
        expires_at = int(expires)
    except (TypeError, ValueError):
        return False
    return expires_at >= time.time() and hmac.compare_digest(_signature(key, expires_at), sig or "")


def file_url(key: str, download_name: str | None = None) -> str:
    """A signed, expiring URL for a stored file (as an attachment when a download name is given)."""
    params = sign(key)
    if download_name:
        params["download"] = download_name
    return app_path("images.file", key=key, **params)
