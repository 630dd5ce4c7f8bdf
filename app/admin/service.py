"""Queries and rules behind the admin console. Services flush; the views commit."""
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from redis.exceptions import RedisError
from sqlalchemy.orm import selectinload

from app.auth import logins
from app.auth.models import ROLES, User
from app.credits import service as credits
from app.credits.models import CreditLedger, LedgerKind
from app.errors import ApiError
from app.extensions import db, redis_queues
from app.generations import service as generations
from app.generations.models import Generation, GenerationStatus
from app.pagination import MAX_INTEGER, Page, paginate
from app.projects.models import Membership, Project, Workspace
from app.providers import registry, routing
from app.providers.base import ProviderError
from app.timeutil import utcnow

PAGE_SIZE = 50  # the console's default limit
USAGE_DAYS = 30
MAX_ADJUSTMENT = 1_000_000
MAX_REASON_LENGTH = 255


# Overview

def queue_overview() -> dict:
    """Each RQ queue's depth and registry counts, and the live workers; an error message if Redis is down."""
    try:
        queues = [
            {
                "name": queue.name,
                "queued": len(queue),
                "running": queue.started_job_registry.count,
                "scheduled": queue.scheduled_job_registry.count,
                "failed": queue.failed_job_registry.count,
            }
            for queue in redis_queues.all_queues()
        ]
        workers = [
            {
                "name": worker.name,
                "state": str(getattr(worker.get_state(), "value", worker.get_state())),
                "queues": ", ".join(worker.queue_names()),
                "job": worker.get_current_job_id(),
            }
            for worker in redis_queues.live_workers()
        ]
    except RedisError as error:
        message = f"Redis is unreachable ({error}); queue and worker figures are unavailable."
        return {"queues": [], "workers": [], "error": message}
    return {"queues": queues, "workers": workers, "error": None}


@dataclass(frozen=True)
class ServiceStatus:
    """One image service as the admin console shows it."""

    name: str
    label: str
    models: list[str]
    cooling_down: bool
    account_credits: str | None  # what the provider's own account has left, where it says


def provider_overview() -> list[ServiceStatus]:
    """Every image service: its models, whether it is cooling down after failures, and its account balance."""
    statuses = []
    for name, provider in sorted(registry.all_providers().items()):
        statuses.append(ServiceStatus(
            name, getattr(provider, "label", "") or "Built-in engine", registry.model_ids(provider),
            routing.is_cooling_down(name), _account_credits(provider),
        ))
    return statuses


def _account_credits(provider) -> str | None:
    if not hasattr(provider, "credit_balance"):
        return None
    try:
        return f"{provider.credit_balance():g}"
    except ProviderError as error:
        return f"unknown ({error.message})"


def status_counts() -> dict[str, int]:
    """How many generations are in each status."""
    counts = {status.value: 0 for status in GenerationStatus}
    rows = db.session.execute(sa.select(Generation.status, sa.func.count()).group_by(Generation.status))
    counts.update({status.value: count for status, count in rows})
    return counts


def _day_key(value) -> str:
    # SQLite's date() gives a string, PostgreSQL's a date; both print as YYYY-MM-DD.
    return str(value)[:10]


def usage_by_day(days: int = USAGE_DAYS) -> dict:
    """Credits spent (reserved minus refunded) and generations by status, per day for the last `days` days."""
    start = utcnow().date() - timedelta(days=days - 1)
    since = datetime.combine(start, time.min)
    ledger_day = sa.func.date(CreditLedger.created_at)
    spent_rows = db.session.execute(
        sa.select(ledger_day, -sa.func.sum(CreditLedger.amount))
        .where(CreditLedger.created_at >= since, CreditLedger.kind.in_([LedgerKind.RESERVE, LedgerKind.REFUND]))
        .group_by(ledger_day)
    )
    spent = {_day_key(day): int(total or 0) for day, total in spent_rows}
    job_day = sa.func.date(Generation.created_at)
    job_rows = db.session.execute(
        sa.select(job_day, Generation.status, sa.func.count())
        .where(Generation.created_at >= since)
        .group_by(job_day, Generation.status)
    )
    jobs: dict[str, dict[str, int]] = {}
    for day, status, count in job_rows:
        jobs.setdefault(_day_key(day), {})[status.value] = count
    series = []
    for index in range(days):
        key = (start + timedelta(days=index)).isoformat()
        day_jobs = {status.value: jobs.get(key, {}).get(status.value, 0) for status in GenerationStatus}
        series.append({"date": key, "credits": spent.get(key, 0), "jobs": day_jobs, "total_jobs": sum(day_jobs.values())})
    return {
        "days": series,
        "max_credits": max([1] + [day["credits"] for day in series]),
        "max_jobs": max([1] + [day["total_jobs"] for day in series]),
        "statuses": [status.value for status in GenerationStatus],
    }


# Users

def list_users(limit: int = PAGE_SIZE, offset: int = 0) -> Page:
    """Users by id, with their workspaces loaded."""
    query = sa.select(User).options(selectinload(User.memberships).selectinload(Membership.workspace))
    return paginate(query, (User.id,), limit, offset)


def get_user(user_id: int) -> User:
    """A user by id; 404 otherwise."""
    user = db.session.get(User, user_id) if 0 < user_id <= MAX_INTEGER else None
    if user is None:
        raise ApiError("User not found.", status=404, code="not_found")
    return user


def set_active(actor: User, user_id: int, active: bool) -> User:
    """Deactivate or reactivate an account; an admin cannot deactivate their own."""
    user = get_user(user_id)
    if user.id == actor.id and not active:
        raise ApiError("You cannot deactivate your own account; ask another admin to do it.")
    user.active = active
    if not active:
        logins.end_all_logins(user)  # open sessions and remember tokens end now, not at their next check
    db.session.flush()
    return user


def log_out_everywhere(user_id: int) -> User:
    """End every login of a user: sessions and remember-me tokens on all browsers."""
    user = get_user(user_id)
    logins.end_all_logins(user)
    db.session.flush()
    return user


def set_role(actor: User, user_id: int, role: str) -> User:
    """Make a user an admin or an agent; an admin cannot demote themselves."""
    if role not in ROLES:
        raise ApiError(f"Role must be one of: {', '.join(ROLES)}.")
    user = get_user(user_id)
    if user.id == actor.id and role != "admin":
        raise ApiError("You cannot remove your own admin role; ask another admin to do it.")
    user.role = role
    db.session.flush()
    return user


# Workspaces and credits

def list_workspaces(limit: int = PAGE_SIZE, offset: int = 0) -> Page:
    """Workspaces by id, with their members loaded."""
    query = sa.select(Workspace).options(selectinload(Workspace.memberships).selectinload(Membership.user))
    return paginate(query, (Workspace.id,), limit, offset)


def get_workspace(workspace_id: int) -> Workspace:
    """A workspace by id, read afresh with its members and projects (its page shows them); 404 otherwise."""
    query = (
        sa.select(Workspace).where(Workspace.id == workspace_id)
        .options(selectinload(Workspace.memberships).selectinload(Membership.user), selectinload(Workspace.projects))
        .execution_options(populate_existing=True)
    )
    workspace = db.session.scalar(query) if 0 < workspace_id <= MAX_INTEGER else None
    if workspace is None:
        raise ApiError("Workspace not found.", status=404, code="not_found")
    return workspace


def adjust_credits(workspace: Workspace, action: str, amount: int, reason: str, actor: User) -> CreditLedger:
    """Grant or deduct credits with a reason kept in the ledger; a deduction cannot overdraw."""
    if action not in ("grant", "deduct"):
        raise ApiError("Choose whether to grant or deduct credits.")
    if len((reason or "").strip()) > MAX_REASON_LENGTH:
        raise ApiError(f"Keep the reason under {MAX_REASON_LENGTH} characters.")
    try:
        return credits.adjust(workspace.id, amount if action == "grant" else -amount, actor, reason)
    except credits.InsufficientCredits as short:
        raise ApiError(
            f"Not enough credits: cannot deduct {short.needed}; the workspace has {short.available}.",
            status=409, code="insufficient_credits",
        ) from None


# Ledger

@dataclass
class LedgerFilters:
    workspace_id: int | None = None
    kind: LedgerKind | None = None
    generation_id: str | None = None
    date_from: date | None = None
    date_to: date | None = None


def ledger_page(filters: LedgerFilters, limit: int = PAGE_SIZE, offset: int = 0) -> Page:
    """Ledger rows matching the filters, newest first, with workspace name and actor email."""
    query = (
        sa.select(CreditLedger, Workspace.name, User.email)
        .join(Workspace, Workspace.id == CreditLedger.workspace_id)
        .outerjoin(User, User.id == CreditLedger.actor_id)
    )
    if filters.workspace_id is not None:
        query = query.where(CreditLedger.workspace_id == filters.workspace_id)
    if filters.kind is not None:
        query = query.where(CreditLedger.kind == filters.kind)
    if filters.generation_id:
        query = query.where(CreditLedger.generation_id == filters.generation_id)
    if filters.date_from:
        query = query.where(CreditLedger.created_at >= datetime.combine(filters.date_from, time.min))
    if filters.date_to:
        query = query.where(CreditLedger.created_at <= datetime.combine(filters.date_to, time.max))
    return paginate(query, (CreditLedger.created_at.desc(), CreditLedger.id.desc()), limit, offset)


# Jobs

def jobs_page(status: GenerationStatus | None, limit: int = PAGE_SIZE, offset: int = 0) -> Page:
    """Generations (in a status, or all), newest first, with project and workspace names."""
    query = (
        sa.select(Generation, Project.name, Workspace.name)
        .join(Project, Project.id == Generation.project_id)
        .join(Workspace, Workspace.id == Project.workspace_id)
    )
    if status is not None:
        query = query.where(Generation.status == status)
    return paginate(query, (Generation.created_at.desc(), Generation.id.desc()), limit, offset)


def requeue(generation_id: str, actor: User) -> Generation:
    """Start a failed generation again as a new one (retry_of_id set) that reserves its own credits."""
    old = db.session.get(Generation, generation_id)
    if old is None:
        raise ApiError("Generation not found.", status=404, code="not_found")
    if old.status is not GenerationStatus.FAILED:
        raise ApiError(f"Only failed generations can be requeued; this one is {old.status.value}.", 409, "conflict")
    if old.deleted_at is not None:
        raise ApiError("This generation was deleted by its owner, so it cannot be requeued.", 409, "conflict")
    retry_id = db.session.scalar(sa.select(Generation.id).where(Generation.retry_of_id == old.id).limit(1))
    if retry_id:
        raise ApiError(f"This generation was already requeued as {retry_id}.", 409, "conflict")
    # The same path as an API retry: every option of the original is kept, and credits are reserved anew.
    return generations.retry_generation(db.session.get(Project, old.project_id), old, user=actor)
