"""Run-time estimates: a moving average of durations in Redis, and queue positions from the rows.

Estimates are a courtesy: when Redis is unreachable a page or a list shows no estimate
rather than failing.
"""
import logging

import sqlalchemy as sa
from redis.exceptions import RedisError

from app.extensions import db, redis_queues
from app.generations.models import Generation, GenerationStatus
from app.timeutil import utcnow

log = logging.getLogger(__name__)

DURATIONS_KEY = "stagecraft:durations"
NO_ESTIMATE = {"queuePosition": None, "etaSeconds": None}


def _duration_field(provider: str, model: str | None) -> str:
    return f"{provider}:{model or ''}"


def record_duration(generation: Generation) -> None:
    """Fold a finished run's duration into the moving average for its provider and model."""
    seconds = (generation.finished_at - generation.started_at).total_seconds()
    field = _duration_field(generation.provider, generation.model)
    try:
        previous = redis_queues.connection.hget(DURATIONS_KEY, field)
        average = seconds if previous is None else 0.8 * float(previous) + 0.2 * seconds
        redis_queues.connection.hset(DURATIONS_KEY, field, f"{average:.3f}")
    except RedisError:
        log.warning("could not record the duration of %s", generation.id)


def _averages_and_workers(fields: list[str]) -> tuple[dict[str, float], int]:
    """Average seconds per provider:model field, and how many workers run; nothing when Redis is down."""
    try:
        values = redis_queues.connection.hmget(DURATIONS_KEY, fields)
        workers = len(redis_queues.live_workers())
    except RedisError:
        log.warning("no run-time estimates: Redis is unreachable")
        return {}, 1
    return {field: float(value) for field, value in zip(fields, values) if value is not None}, max(1, workers)


def _queue_positions(queued: list[Generation]) -> dict[str, int]:
    """Each queued generation's place in the queue (1 = next), in one query."""
    if not queued:
        return {}
    ahead = sa.orm.aliased(Generation)
    count_ahead = (
        sa.select(sa.func.count(ahead.id))
        .where(
            ahead.status == GenerationStatus.QUEUED,
            sa.or_(
                ahead.priority > Generation.priority,
                sa.and_(ahead.priority == Generation.priority, ahead.created_at < Generation.created_at),
            ),
        )
        .scalar_subquery()
    )
    rows = db.session.execute(
        sa.select(Generation.id, count_ahead).where(Generation.id.in_([generation.id for generation in queued]))
    )
    return {generation_id: count + 1 for generation_id, count in rows}


def queue_estimates(generations: list[Generation]) -> dict[str, dict]:
    """Place in the queue and estimated seconds until done, for each of a page's generations."""
    running = [generation for generation in generations if not generation.is_terminal]
    estimates = {generation.id: dict(NO_ESTIMATE) for generation in generations}
    if not running:
        return estimates
    averages, workers = _averages_and_workers(sorted({_duration_field(g.provider, g.model) for g in running}))
    positions = _queue_positions([g for g in running if g.status is GenerationStatus.QUEUED])
    for generation in running:
        average = averages.get(_duration_field(generation.provider, generation.model))
        position = positions.get(generation.id)
        eta = None
        if average is not None and position is not None:
            eta = round(-(-position // workers) * average, 1)
        elif average is not None and generation.status is GenerationStatus.PROCESSING and generation.started_at:
            eta = round(max(0.0, average - (utcnow() - generation.started_at).total_seconds()), 1)
        estimates[generation.id] = {"queuePosition": position, "etaSeconds": eta}
    return estimates
