"""Serving a live URL: the cached image, or one generated once while identical requests wait for it.

This is a small workflow rather than a service: like a job, it commits between its steps,
because a worker can only run a generation that is committed, and the cache entry is
written after the wait.
"""
import time

from flask import current_app
from sqlalchemy.exc import IntegrityError

from app.errors import ApiError
from app.extensions import db
from app.generations import progress
from app.generations.models import Generation
from app.generations.service import create_generation
from app.generations.spec import GenerationSpec
from app.live import service

CLAIM_POLL_SECONDS = 0.05
# A safety net under pub/sub: the row is looked at again at least this often while waiting.
ROW_POLL_SECONDS = 2.0


def cached_or_generated(project, params, api_key=None, on_miss=None):
    """(image, response headers): a HIT from the project's cache, or a MISS generated for this request.

    on_miss() runs once when the cache cannot answer, before any work: it may refuse (raise) and
    returns headers for the answer (the API key's rate limit, which every MISS counts against).
    """
    deadline = time.monotonic() + _wait_seconds()
    miss_headers = None
    while True:
        cached = service.find_cached(project, params)
        if cached:
            entry, image = cached
            service.record_hit(entry)
            db.session.commit()
            return image, {**(miss_headers or {}), "X-Cache-Status": "HIT", "X-Cache-Hit-Count": str(entry.hit_count)}
        if miss_headers is None:
            miss_headers = on_miss() if on_miss else {}
        generation_id = _start_or_join(project, params, api_key)
        if generation_id:
            break
        if time.monotonic() > deadline:
            raise _still_generating()
        # Give the connection back while waiting: with more identical requests than pooled connections,
        # waiters holding theirs would starve the one request that creates the generation.
        db.session.rollback()
        time.sleep(CLAIM_POLL_SECONDS)
    generation = _wait_for_generation(generation_id, deadline)
    try:
        image = service.result_image(generation)
    except ApiError:
        service.release(project, params, generation_id)  # the next request tries again
        raise
    if generation.is_placeholder:
        # A demo placeholder (ALLOW_PLACEHOLDERS) is not the image asked for: never cached, here or by browsers.
        service.release(project, params, generation_id)
        return image, {**miss_headers, "X-Cache-Status": "MISS", "X-Generation-Id": generation_id,
                       "X-Placeholder": "true", "Cache-Control": "no-store"}
    _store_entry(project, params, generation, image)
    service.release(project, params, generation_id)
    return image, {**miss_headers, "X-Cache-Status": "MISS", "X-Generation-Id": generation_id}


def _start_or_join(project, params, api_key) -> str | None:
    """The generation making this image: a new one if we win the claim, else the winner's (None while unknown)."""
    token = service.claim(project, params)
    if token is None:
        return service.announced_generation(project, params)
    spec = GenerationSpec(prompt=params.prompt, aspect_ratio=params.aspect_ratio, resolution=params.resolution)
    try:
        generation = create_generation(project, spec, api_key=api_key)
        service.spend_miss(project)
        db.session.commit()
    except Exception:
        db.session.rollback()
        service.release(project, params, token)
        raise
    service.announce(project, params, generation.id)
    return generation.id


def _wait_for_generation(generation_id: str, deadline: float) -> Generation | None:
    """Wait until the generation reaches a terminal status (None if it was deleted); 504 at the deadline."""
    # Subscribed before the row is read, so a change committed in between is not missed.
    listener = progress.listen(generation_id)
    try:
        while True:
            generation = db.session.get(Generation, generation_id)
            if generation is None or generation.is_terminal:
                return generation
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise _still_generating()
            # Expire what was read and give the connection back while waiting; the next look reads afresh.
            db.session.rollback()
            listener.wait(min(remaining, ROW_POLL_SECONDS))
    finally:
        listener.close()


def _store_entry(project, params, generation, image) -> None:
    """Cache the result; a concurrent request that cached it first is just as good."""
    try:
        service.record_entry(project, params, generation, image)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()


def _still_generating() -> ApiError:
    seconds = _wait_seconds()
    return ApiError(
        f"The image is still being generated after {seconds:g} seconds; request the same URL again "
        "shortly and it will be returned once ready.",
        status=504, code="timeout", headers={"Retry-After": "5"},
    )


def _wait_seconds() -> float:
    return float(current_app.config["LIVE_WAIT_SECONDS"])
