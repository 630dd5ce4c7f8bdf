"""Workspaces and projects. Every lookup is scoped to the workspaces of the acting user."""
import sqlalchemy as sa

from app.errors import ApiError
from app.extensions import db
from app.pagination import whole_number
from app.projects.models import PROJECT_KINDS, Membership, Project, Workspace

MAX_NAME_LENGTH, MAX_ADDRESS_LENGTH, MAX_ROOMS = 120, 255, 99


def create_workspace(name: str, owner) -> Workspace:
    """Create a workspace owned by a user."""
    workspace = Workspace(name=name[:120])
    db.session.add(workspace)
    db.session.flush()
    db.session.add(Membership(user_id=owner.id, workspace_id=workspace.id, role="owner"))
    db.session.flush()
    return workspace


def user_workspace_ids(user) -> sa.Select:
    """A subquery of the ids of the workspaces a user belongs to."""
    return sa.select(Membership.workspace_id).where(Membership.user_id == user.id)


def workspaces_for(user) -> list[Workspace]:
    """The user's workspaces, oldest first (the first is the one made at sign-up)."""
    query = sa.select(Workspace).where(Workspace.id.in_(user_workspace_ids(user))).order_by(Workspace.id)
    return list(db.session.scalars(query))


def projects_for(user, kind: str | None = None) -> list[Project]:
    """The user's projects (of one kind when given), newest first."""
    query = sa.select(Project).where(Project.workspace_id.in_(user_workspace_ids(user)))
    if kind is not None:
        query = query.where(Project.kind == kind)
    return list(db.session.scalars(query.order_by(Project.created_at.desc(), Project.id.desc())))


def get_project_for_user(user, project_id: int) -> Project:
    """The project if it is in one of the user's workspaces; 404 otherwise (no hint that it exists)."""
    project = db.session.scalar(
        sa.select(Project).where(Project.id == project_id, Project.workspace_id.in_(user_workspace_ids(user)))
    )
    if project is None:
        raise ApiError("Project not found.", status=404, code="not_found")
    return project


def get_in_project(project: Project, model, row_id, *conditions, not_found: str, options=()):
    """The row of a model with this id in the project; 404 with `not_found` otherwise (no hint it exists elsewhere).

    `options` are loader options for what the caller's page reads; they refresh a row already in the session.
    """
    query = sa.select(model).where(model.id == row_id, model.project_id == project.id, *conditions)
    if options:
        query = query.options(*options).execution_options(populate_existing=True)
    row = db.session.scalar(query)
    if row is None:
        raise ApiError(not_found, status=404, code="not_found")
    return row


def get_for_user(user, model, row_id, *conditions, not_found: str):
    """The row of a model with id and project_id whose project is in one of the user's workspaces; 404 otherwise."""
    row = db.session.scalar(
        sa.select(model)
        .join(Project, Project.id == model.project_id)
        .where(model.id == row_id, Project.workspace_id.in_(user_workspace_ids(user)), *conditions)
    )
    if row is None:
        raise ApiError(not_found, status=404, code="not_found")
    return row


def create_project(
    user, name: str, kind: str = "listing", workspace_id: int | None = None, *, address: str = "", room_count: str = ""
) -> Project:
    """Create a project in one of the user's workspaces (the first one when none is given); rooms as typed."""
    name, address = (name or "").strip(), (address or "").strip()
    if not name:
        raise ApiError("Give the project a name, such as the listing's address.")
    if len(name) > MAX_NAME_LENGTH or len(address) > MAX_ADDRESS_LENGTH:
        raise ApiError(f"Keep the name under {MAX_NAME_LENGTH} and the address under {MAX_ADDRESS_LENGTH} characters.")
    typed_rooms = str(room_count or "").strip()
    rooms = whole_number(typed_rooms, 1, MAX_ROOMS) if typed_rooms else None
    if typed_rooms and rooms is None:
        raise ApiError(f"The number of rooms must be a whole number from 1 to {MAX_ROOMS}, or left empty.")
    if kind not in PROJECT_KINDS:
        raise ApiError(f"Project kind must be one of: {', '.join(PROJECT_KINDS)}.")
    workspaces = workspaces_for(user)
    if not workspaces:
        raise ApiError("You are not a member of any workspace.", status=403, code="forbidden")
    workspace = workspaces[0]
    if workspace_id is not None:
        workspace = next((w for w in workspaces if w.id == workspace_id), None)
        if workspace is None:
            raise ApiError("Workspace not found.", status=404, code="not_found")
    project = Project(workspace_id=workspace.id, name=name, kind=kind, address=address or None, room_count=rooms)
    db.session.add(project)
    db.session.flush()
    return project
