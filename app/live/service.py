"""Live URLs: canonical parameters, signatures, allowed origins, the miss budget and the cache of results."""
import hashlib
import hmac
import json
import re
import secrets
import time
import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import current_app

from app.errors import ApiError
from app.extensions import db, redis_queues
from app.generations.checks import check_choice, check_prompt
from app.generations.models import Generation, GenerationStatus
from app.images.models import Image
from app.images.storage import storage
from app.imaging.geometry import RESOLUTIONS, parse_aspect_ratio
from app.live.models import LiveEntry
from app.projects.models import Project
from app.timeutil import utcnow
from app.urls import public_url_for

MAX_ALLOWED_ORIGINS = 50
MAX_MISS_BUDGET = 1_000_000
HOST_PATTERN = re.compile(r"^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$")
PENDING = "pending:"

INVALID_SIGNATURE = (
    "Invalid live URL signature: the URL was changed after it was signed, or the project's live secret "
    "was rotated. Build a new URL on the project's Live URLs page."
)


@dataclass(frozen=True)
class LiveParams:
    """A live request's prompt and parameters, normalised so equal requests share one cache entry."""

    prompt: str
    aspect_ratio: str | None = None
    resolution: str | None = None

    def as_dict(self) -> dict:
        return {"prompt": self.prompt, "aspectRatio": self.aspect_ratio, "resolution": self.resolution}

    @property
    def cache_key(self) -> str:
        canonical = json.dumps(self.as_dict(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()


def live_params(prompt, aspect_ratio=None, resolution=None) -> LiveParams:
    """Validate and normalise a live request's parameters; 400 saying what is wrong."""
    return LiveParams(
        check_prompt(prompt, preset=None),
        _normal_aspect_ratio(aspect_ratio),
        check_choice("resolution", resolution, RESOLUTIONS),
    )


def _normal_aspect_ratio(aspect_ratio) -> str | None:
    if aspect_ratio in (None, ""):
        return None
    try:
        width, height = parse_aspect_ratio(aspect_ratio)
    except ValueError:
        raise ApiError("Invalid aspect ratio") from None
    return f"{width}:{height}"


def live_signature(project: Project, params: LiveParams) -> str:
    """HMAC-SHA256 (hex) of the project id and the canonical parameters, keyed by the project's live secret."""
    fields = [project.id, params.prompt, params.aspect_ratio or "", params.resolution or ""]
    message = json.dumps(fields, separators=(",", ":"), ensure_ascii=False)
    return hmac.new(project.live_secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def signed_live_url(project: Project, prompt: str, aspect_ratio: str | None = None, resolution: str | None = None) -> str:
    """An absolute live URL that works without an API key until the project's secret is rotated."""
    params = live_params(prompt, aspect_ratio, resolution)
    query = {"prompt": params.prompt}
    if params.aspect_ratio:
        query["aspectRatio"] = params.aspect_ratio
    if params.resolution:
        query["resolution"] = params.resolution
    return public_url_for("live.image", **query, project=project.id, sig=live_signature(project, params))


def project_for_signature(project_id: str, sig: str, params: LiveParams) -> Project:
    """The project whose live secret signed these parameters; 401 otherwise."""
    project = None
    if project_id.isascii() and project_id.isdigit() and 0 < int(project_id) < 2**31:
        project = db.session.get(Project, int(project_id))
    expected = live_signature(project, params) if project else ""
    if not project or not hmac.compare_digest(expected.encode(), sig.strip().lower().encode()):
        raise ApiError(INVALID_SIGNATURE, status=401, code="unauthorized")
    return project


def check_origin(project: Project, origin: str | None, referer: str | None, own_host: str) -> None:
    """403 when the project limits its origins and the page asking is on none of them.

    A request with neither Origin nor Referer is allowed: image loads from apps, e-mail clients
    and pages with a no-referrer policy send neither, and the signature already limits what it gets.
    """
    allowed = project.allowed_origins or []
    source = origin if origin and origin != "null" else referer
    if not allowed or not source:
        return
    host = _hostname(source)
    if host and (host == _hostname(own_host) or any(_host_matches(host, entry) for entry in allowed)):
        return
    shown = "/".join(source.split("/", 3)[:3])[:200]  # the origin part of a Referer
    raise ApiError(
        f"Origin {shown} may not load this project's live URLs; add {host or 'its host'} to the "
        "allowed origins on the project's Live URLs page.",
        status=403, code="forbidden",
    )


def _hostname(url: str) -> str:
    """The lower-case host name of a URL or a bare host, or "" when it has none or cannot be parsed."""
    try:
        return (urlsplit(url if "://" in url else f"//{url}").hostname or "").lower()
    except ValueError:
        return ""


def _host_matches(host: str, entry: str) -> bool:
    if entry.startswith("*."):
        return host.endswith(entry[1:])
    return host == entry


def parse_allowed_origins(text: str) -> list[str]:
    """Host names from one-per-line hosts or origins (https://www.example.com → www.example.com)."""
    hosts = []
    for line in (text or "").splitlines():
        line = line.strip().lower()
        if not line:
            continue
        wildcard = line.startswith("*.")
        rest = line[2:] if wildcard else line
        host = f"*.{_hostname(rest)}" if wildcard else _hostname(rest)
        if not HOST_PATTERN.match(host):
            raise ApiError(f"{line!r} is not a host or origin, such as www.example.com or https://www.example.com.")
        if host not in hosts:
            hosts.append(host)
    if len(hosts) > MAX_ALLOWED_ORIGINS:
        raise ApiError(f"List at most {MAX_ALLOWED_ORIGINS} allowed origins.")
    return hosts


def update_live_settings(project: Project, allowed_origins: str, miss_budget: str) -> None:
    """Set the allowed origins (one per line) and the misses allowed per hour; 400 if either is invalid."""
    origins = parse_allowed_origins(allowed_origins)
    try:
        budget = int(str(miss_budget).strip())
    except ValueError:
        budget = -1
    if not 0 <= budget <= MAX_MISS_BUDGET:
        raise ApiError(f"The miss budget must be a whole number from 0 to {MAX_MISS_BUDGET}.")
    project.allowed_origins, project.live_miss_budget = origins, budget
    db.session.flush()


def rotate_live_secret(project: Project) -> None:
    """A new live secret: every URL signed with the old one stops working."""
    project.live_secret = secrets.token_hex(32)
    db.session.flush()


def _misses_key(project_id: int) -> str:
    return f"stagecraft:live:misses:{project_id}:{int(time.time()) // 3600}"


def misses_this_hour(project: Project) -> int:
    """Cache misses the project's live URLs have generated in the current clock hour."""
    return int(redis_queues.connection.get(_misses_key(project.id)) or 0)


def spend_miss(project: Project) -> None:
    """Count one miss against the project's hourly budget; 429 with Retry-After when it is used up."""
    key = _misses_key(project.id)
    pipeline = redis_queues.connection.pipeline()
    pipeline.incr(key)
    pipeline.expire(key, 3600 + 60)
    count, _ = pipeline.execute()
    if count <= project.live_miss_budget:
        return
    redis_queues.connection.decr(key)
    retry_after = 3600 - int(time.time()) % 3600
    raise ApiError(
        f"This project's live URLs have generated their {project.live_miss_budget} new images for this hour; "
        f"cached images are still served. Try again in {-(-retry_after // 60)} minutes, or raise the "
        "miss budget on the project's Live URLs page.",
        status=429, code="rate_limited", headers={"Retry-After": str(retry_after)},
    )


def _lock_key(project: Project, params: LiveParams) -> str:
    return f"stagecraft:live:lock:{project.id}:{params.cache_key}"


def claim(project: Project, params: LiveParams) -> str | None:
    """Become the one request that generates this image (a token), or None if another already is."""
    token = f"{PENDING}{uuid.uuid4()}"
    ttl = max(1, int(current_app.config["LIVE_WAIT_SECONDS"]))
    return token if redis_queues.connection.set(_lock_key(project, params), token, nx=True, ex=ttl) else None


def announce(project: Project, params: LiveParams, generation_id: str) -> None:
    """Let concurrent requests for the same image wait for this generation instead of starting their own."""
    ttl = int(current_app.config["LIVE_WAIT_SECONDS"]) + current_app.config["JOB_TIMEOUT"]
    redis_queues.connection.set(_lock_key(project, params), generation_id, ex=max(1, ttl))


def announced_generation(project: Project, params: LiveParams) -> str | None:
    """The generation another request started for this image, if it has said which."""
    value = redis_queues.connection.get(_lock_key(project, params))
    holder = value.decode() if value else None
    return None if holder is None or holder.startswith(PENDING) else holder


RELEASE_SCRIPT = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"


def release(project: Project, params: LiveParams, holder: str) -> None:
    """Drop the claim on this image if it is still held by `holder` (a token or a generation id)."""
    redis_queues.connection.eval(RELEASE_SCRIPT, 1, _lock_key(project, params), holder)


def find_cached(project: Project, params: LiveParams) -> tuple[LiveEntry, Image] | None:
    """The cache entry and its image, if the image still exists; None means a miss."""
    entry = db.session.scalar(
        sa.select(LiveEntry).where(LiveEntry.project_id == project.id, LiveEntry.cache_key == params.cache_key)
    )
    image = db.session.get(Image, entry.image_id) if entry and entry.image_id else None
    if image is None or image.deleted_at is not None or not storage().exists(image.storage_key):
        return None
    if (image.meta or {}).get("placeholder"):
        return None  # cached before placeholders stopped being cached: not the image asked for
    return entry, image


def record_hit(entry: LiveEntry) -> None:
    """Count a hit with one atomic update, so concurrent hits are all counted."""
    db.session.execute(
        sa.update(LiveEntry)
        .where(LiveEntry.id == entry.id)
        .values(hit_count=LiveEntry.hit_count + 1, last_hit_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(entry, ["hit_count", "last_hit_at"])


def result_image(generation: Generation | None) -> Image:
    """The image a finished generation made; 502 with its error when it made none."""
    if generation is None:
        raise ApiError("The generation for this image was deleted; request the URL again.", 502, "generation_failed")
    if generation.status is GenerationStatus.SUCCEEDED:
        image = next((image for image in generation.outputs if image.deleted_at is None), None)
        if image is not None:
            return image
    reason = generation.error_message or f"the generation ended {generation.status.value} without an image"
    raise ApiError(f"The image could not be generated: {reason}", status=502, code="generation_failed")


def record_entry(project: Project, params: LiveParams, generation: Generation, image: Image) -> LiveEntry:
    """Cache a generated image for these parameters (a new entry, or a replacement for a lost image)."""
    entry = db.session.scalar(
        sa.select(LiveEntry).where(LiveEntry.project_id == project.id, LiveEntry.cache_key == params.cache_key)
    )
    if entry is None:
        entry = LiveEntry(project_id=project.id, cache_key=params.cache_key, params=params.as_dict())
        db.session.add(entry)
    entry.generation_id, entry.image_id = generation.id, image.id
    db.session.flush()
    return entry


def recent_entries(project: Project, limit: int = 20) -> list[LiveEntry]:
    """The project's most recently created cache entries."""
    query = sa.select(LiveEntry).where(LiveEntry.project_id == project.id)
    return list(db.session.scalars(query.order_by(LiveEntry.created_at.desc(), LiveEntry.id.desc()).limit(limit)))
