"""Configuration from the environment, parsed by small typed helpers.

Every setting has a default that makes the embedded single-machine setup work:
SQLite and Redis under ``var/``, files in ``var/storage/``, the offline provider.
"""
import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit

from app.catalog.pricing import load_prices

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def env_str(environ, name: str, default: str) -> str:
    """A string setting; empty counts as unset."""
    return environ.get(name) or default


def env_int(environ, name: str, default: int) -> int:
    """An integer setting; a malformed value is a startup error naming the variable."""
    raw = environ.get(name)
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ValueError(f"{name} must be an integer, got {raw!r}") from None


def env_float(environ, name: str, default: float) -> float:
    """A float setting; a malformed value is a startup error naming the variable."""
    raw = environ.get(name)
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number, got {raw!r}") from None


def env_list(environ, name: str) -> tuple[str, ...]:
    """A comma-separated list setting, lower-cased, blanks dropped."""
    return tuple(item.strip().lower() for item in (environ.get(name) or "").split(",") if item.strip())


def password_hash_method(environ) -> str:
    """PASSWORD_HASH_METHOD checked at startup, so a typo fails here rather than at someone's sign-up."""
    method = env_str(environ, "PASSWORD_HASH_METHOD", "scrypt")
    if method.split(":", 1)[0] not in ("scrypt", "pbkdf2"):
        raise ValueError(f"PASSWORD_HASH_METHOD must be scrypt[:n:r:p] or pbkdf2:sha256[:rounds], got {method!r}")
    return method


def env_bool(environ, name: str, default: bool) -> bool:
    """A boolean setting: 1/true/yes/on or 0/false/no/off."""
    raw = (environ.get(name) or "").strip().lower()
    if not raw:
        return default
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"{name} must be a boolean (true/false), got {raw!r}")


def public_base_url(raw: str | None) -> str | None:
    """PUBLIC_BASE_URL, checked: an http(s) URL with a host and no query; None when unset."""
    if not raw:
        return None
    parts = urlsplit(raw.strip())
    if parts.scheme not in {"http", "https"} or not parts.hostname or parts.query or parts.fragment:
        raise ValueError(f"PUBLIC_BASE_URL must look like https://photos.example.com, got {raw!r}")
    return raw.strip().rstrip("/")


def tls_files(environ) -> dict:
    """TLS_CERT_FILE and TLS_KEY_FILE: both or neither, each a readable file."""
    files = {name: environ.get(name) or None for name in ("TLS_CERT_FILE", "TLS_KEY_FILE")}
    given = [name for name, path in files.items() if path]
    if len(given) == 1:
        missing = ({"TLS_CERT_FILE", "TLS_KEY_FILE"} - set(given)).pop()
        raise ValueError(f"{given[0]} is set but {missing} is not; set both to serve https, or neither.")
    for name, path in files.items():
        if path and not Path(path).is_file():
            raise ValueError(f"{name} points at {path!r}, which is not a file.")
    return files


def persistent_secret(var_dir: Path) -> str:
    """The embedded setup's secret key, generated once and kept in var/ so sessions survive restarts."""
    path = var_dir / "secret_key"
    if not path.exists():
        var_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def load_config(environ=None) -> dict:
    """Read every setting from the environment into a Flask config mapping."""
    environ = os.environ if environ is None else environ
    var_dir = Path(env_str(environ, "STAGECRAFT_VAR_DIR", str(PROJECT_ROOT / "var"))).resolve()
    max_upload_mb = env_float(environ, "MAX_UPLOAD_MB", 5)
    max_files = env_int(environ, "MAX_FILES_PER_UPLOAD", 20)
    return {
        "VAR_DIR": str(var_dir),
        "SECRET_KEY": environ.get("SECRET_KEY") or None,
        "SQLALCHEMY_DATABASE_URI": env_str(
            environ, "DATABASE_URL", f"sqlite:///{var_dir / 'stagecraft.db'}"
        ),
        "REDIS_URL": env_str(environ, "REDIS_URL", f"unix://{var_dir / 'redis' / 'redis.sock'}"),
        "STORAGE_DIR": env_str(environ, "STORAGE_DIR", str(var_dir / "storage")),
        # Tests only (the fault suite): while a file exists at this path, every storage write fails as a full disk.
        "STORAGE_FAULT_SWITCH": environ.get("STORAGE_FAULT_SWITCH") or None,
        "SIGNED_URL_TTL": env_int(environ, "SIGNED_URL_TTL", 3600),
        # Where clients reach the app (scheme, host, any prefix a proxy strips); default: each request's own.
        "PUBLIC_BASE_URL": public_base_url(environ.get("PUBLIC_BASE_URL")),
        "MAX_UPLOAD_BYTES": int(max_upload_mb * 1024 * 1024),
        "MAX_FILES_PER_UPLOAD": max_files,
        # The whole request may carry several files; each file is checked on its own.
        "MAX_CONTENT_LENGTH": int(max_upload_mb * 1024 * 1024) * max_files + 1024 * 1024,
        "MAX_IMAGE_PIXELS": env_int(environ, "MAX_IMAGE_PIXELS", 50_000_000),
        "LIVE_WAIT_SECONDS": env_int(environ, "LIVE_WAIT_SECONDS", 60),
        "API_RATE_LIMIT": env_int(environ, "API_RATE_LIMIT", 100),
        "RATELIMIT_HEADERS_ENABLED": True,
        # A Redis blip lets requests through unlimited rather than failing them.
        "RATELIMIT_SWALLOW_ERRORS": True,
        "FREE_CREDITS": env_int(environ, "FREE_CREDITS", 50),
        "LOW_BALANCE_THRESHOLD": env_int(environ, "LOW_BALANCE_THRESHOLD", 10),
        "CREDIT_PRICES": load_prices(environ.get("CREDIT_PRICES")),
        "DEFAULT_PROVIDER": env_str(environ, "DEFAULT_PROVIDER", "local"),
        # Demos only: with no AI service, a prompt alone makes a free labelled placeholder instead of a refusal.
        "ALLOW_PLACEHOLDERS": env_bool(environ, "ALLOW_PLACEHOLDERS", False),
        # AI providers: each is available once its key is set; base URLs point tests at local servers.
        "FAL_KEY": environ.get("FAL_KEY") or None,
        "FAL_QUEUE_URL": env_str(environ, "FAL_QUEUE_URL", "https://queue.fal.run"),
        "NANOBANANA_API_KEY": environ.get("NANOBANANA_API_KEY") or None,
        "NANOBANANA_BASE_URL": env_str(environ, "NANOBANANA_BASE_URL", "https://api.nanobananaapi.ai"),
        "GEMINI_API_KEY": environ.get("GEMINI_API_KEY") or None,
        "GEMINI_BASE_URL": env_str(environ, "GEMINI_BASE_URL", "https://generativelanguage.googleapis.com"),
        # Seconds an AI provider has to connect and answer one call (Gemini, which makes the image within its
        # one call, has six times this to answer).
        "PROVIDER_TIMEOUT": env_float(environ, "PROVIDER_TIMEOUT", 30.0),
        # AI providers in the order requests fall back through after retryable failures.
        "PROVIDER_ORDER": env_list(environ, "PROVIDER_ORDER") or ("fal", "nanobanana", "gemini"),
        # This many retryable failures in a row cool a provider down for PROVIDER_COOLDOWN seconds.
        "PROVIDER_FAILURE_THRESHOLD": env_int(environ, "PROVIDER_FAILURE_THRESHOLD", 5),
        "PROVIDER_COOLDOWN": env_int(environ, "PROVIDER_COOLDOWN", 120),
        # Seconds between polls of a provider's queue (growing to the maximum), unless it advises otherwise.
        "PROVIDER_POLL_INTERVAL": env_float(environ, "PROVIDER_POLL_INTERVAL", 2.0),
        "PROVIDER_POLL_MAX": env_float(environ, "PROVIDER_POLL_MAX", 15.0),
        # Hosts outgoing fetches may reach although they resolve to private addresses (comma-separated).
        "OUTBOUND_ALLOWLIST": env_list(environ, "OUTBOUND_ALLOWLIST"),
        # Outgoing callbacks: seconds a receiver has to answer, attempts in all, and the first retry's delay
        # (each later one waits 3× longer: 1, 3, 9, 27, 81 minutes, about 2 hours in all).
        "WEBHOOK_TIMEOUT": env_float(environ, "WEBHOOK_TIMEOUT", 15.0),
        "WEBHOOK_MAX_ATTEMPTS": env_int(environ, "WEBHOOK_MAX_ATTEMPTS", 6),
        "WEBHOOK_RETRY_BASE": env_int(environ, "WEBHOOK_RETRY_BASE", 60),
        "JOB_TIMEOUT": env_int(environ, "JOB_TIMEOUT", 300),
        "ABANDON_GRACE": env_int(environ, "ABANDON_GRACE", 60),
        "MAX_ATTEMPTS": env_int(environ, "MAX_ATTEMPTS", 3),
        "RETRY_BACKOFF": env_int(environ, "RETRY_BACKOFF", 10),
        "MAX_LIFETIME": env_int(environ, "MAX_LIFETIME", 3600),
        "WORKSPACE_CONCURRENCY": env_int(environ, "WORKSPACE_CONCURRENCY", 4),
        "WORKSPACE_BUSY_DELAY": env_int(environ, "WORKSPACE_BUSY_DELAY", 3),
        "QUEUED_DEADLINE": env_int(environ, "QUEUED_DEADLINE", 1800),
        "SWEEP_INTERVAL": env_int(environ, "SWEEP_INTERVAL", 30),
        # Photo descriptions: sessions and their uploads are deleted this many seconds after they were opened.
        "ANALYSIS_SESSION_TTL": env_int(environ, "ANALYSIS_SESSION_TTL", 86400),
        # Listing zips: the file and its row are removed this many seconds after it was asked for.
        "EXPORT_TTL": env_int(environ, "EXPORT_TTL", 86400),
        # "auto" describes with Gemini when GEMINI_API_KEY is set, else with the offline analyzer.
        "ANALYZER": env_str(environ, "ANALYZER", "auto").lower(),
        "GEMINI_VISION_MODEL": env_str(environ, "GEMINI_VISION_MODEL", "gemini-2.5-flash"),
        # Photos the NSFW classifier scores at or above this are held for review.
        "NSFW_HOLD_THRESHOLD": env_float(environ, "NSFW_HOLD_THRESHOLD", 0.8),
        "WORKERS": env_int(environ, "WORKERS", 2),
        "WEB_CONCURRENCY": env_int(environ, "WEB_CONCURRENCY", 2),
        "HOST": env_str(environ, "HOST", "127.0.0.1"),
        # gunicorn serves https itself when both are set (else put a TLS proxy in front; see the README).
        **tls_files(environ),
        "PORT": env_int(environ, "PORT", 8000),
        # The MCP server for AI assistants (Streamable HTTP at /mcp), started beside the web server; 0 turns it off.
        "MCP_PORT": env_int(environ, "MCP_PORT", 8001),
        # How long POST /api/process-image waits for the edit before answering 202 (still processing).
        "PROCESS_IMAGE_WAIT": env_float(environ, "PROCESS_IMAGE_WAIT", 50.0),
        "ADMIN_EMAIL": environ.get("STAGECRAFT_ADMIN_EMAIL") or None,
        "ADMIN_PASSWORD": environ.get("STAGECRAFT_ADMIN_PASSWORD") or None,
        "LOG_LEVEL": env_str(environ, "LOG_LEVEL", "INFO").upper(),
        "LOG_FORMAT": env_str(environ, "LOG_FORMAT", "json"),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": env_bool(environ, "SESSION_COOKIE_SECURE", False),
        # "Remember me" keeps a second cookie; it gets the same protection as the session cookie.
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": env_bool(environ, "SESSION_COOKIE_SECURE", False),
        # Days a "remember me" token lasts from the login; it is replaced each time it is used.
        "REMEMBER_DAYS": env_int(environ, "REMEMBER_DAYS", 30),
        # How new passwords are hashed (werkzeug's method string): scrypt by default; pbkdf2:sha256:<rounds> also works.
        "PASSWORD_HASH_METHOD": password_hash_method(environ),
        # Failed logins to one account in a row before it is locked for a while (doubling with each further failure).
        "LOGIN_FAILURES_BEFORE_BACKOFF": env_int(environ, "LOGIN_FAILURES_BEFORE_BACKOFF", 5),
        # Connections per process; SQLite needs few (one writer at a time), the gevent server many greenlets.
        "DATABASE_POOL_SIZE": env_int(environ, "DATABASE_POOL_SIZE", 4),
        # How long a web request waits for SQLite's write lock before it is answered 503 with Retry-After.
        "SQLITE_LOCK_WAIT": env_float(environ, "SQLITE_LOCK_WAIT", 5.0),
    }
