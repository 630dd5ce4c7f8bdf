"""Flows: chains of generations with flow-scoped aliases."""
import sqlalchemy as sa

from app.catalog.limits import MAX_FLOW_ALIASES, meta_problem
from app.errors import ApiError
from app.extensions import db
from app.flows.models import Flow
from app.images.aliases import validate_alias
from app.images.models import Image
from app.pagination import Page, paginate
from app.projects.models import Project
from app.projects.service import get_for_user, get_in_project

MAX_ALIASES = MAX_FLOW_ALIASES


def create_flow(project: Project, meta: dict | None = None, aliases: dict | None = None) -> Flow:
    """A new, empty flow (with optional meta and aliases)."""
    if problem := meta_problem(meta):
        raise ApiError(problem)
    flow = Flow(project_id=project.id, meta=meta or {}, aliases={})
    db.session.add(flow)
    db.session.flush()
    if aliases:
        merge_aliases(project, flow, aliases)
    return flow


def get_flow(project: Project, flow_id) -> Flow:
    """A flow of the project; 404 'Flow not found' otherwise."""
    return get_in_project(project, Flow, str(flow_id), not_found="Flow not found")


def list_flows(project: Project, limit: int, offset: int) -> Page:
    """A page of the project's flows, newest first."""
    query = sa.select(Flow).where(Flow.project_id == project.id)
    return paginate(query, (Flow.created_at.desc(), Flow.id), limit, offset)


def merge_aliases(project: Project, flow: Flow, aliases) -> Flow:
    """Add or replace flow aliases; every value must be an image id of the project (checked in one query)."""
    if not isinstance(aliases, dict):
        raise ApiError("Send the aliases as a JSON object of alias to image id.")
    # Sizes first: a huge map is refused before any alias is looked at.
    if len(aliases) > MAX_ALIASES or len(set(flow.aliases or {}) | set(aliases)) > MAX_ALIASES:
        raise ApiError(f"A flow holds at most {MAX_ALIASES} aliases.")
    for alias, image_id in aliases.items():
        validate_alias(alias)
        if not isinstance(image_id, str) or image_id.startswith("@"):
            raise ApiError(f"The value for {alias} must be an image id.")
    wanted = set(aliases.values())
    found = set(db.session.scalars(
        sa.select(Image.id).where(Image.project_id == project.id, Image.deleted_at.is_(None), Image.id.in_(wanted))
    ))
    if wanted - found:
        raise ApiError("Image not found", status=404, code="not_found")
    flow.aliases = {**(flow.aliases or {}), **aliases}
    db.session.flush()
    return flow


def delete_alias(flow: Flow, alias: str) -> Flow:
    """Remove one flow alias; 404 if the flow has no such alias."""
    if alias not in (flow.aliases or {}):
        raise ApiError(f"The flow has no alias {alias}.", status=404, code="not_found")
    flow.aliases = {key: value for key, value in flow.aliases.items() if key != alias}
    db.session.flush()
    return flow


def delete_flow(flow: Flow) -> None:
    """Delete the flow itself; its generations and images remain, no longer in a flow (ON DELETE SET NULL)."""
    db.session.delete(flow)
    db.session.flush()


def get_flow_for_user(user, flow_id: str) -> Flow:
    """A flow in one of the user's workspaces; 404 'Flow not found' otherwise."""
    return get_for_user(user, Flow, str(flow_id), not_found="Flow not found")
