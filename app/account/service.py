"""Account settings of a workspace: its label text, the AI service tried first, and its credit ledger."""
from dataclasses import dataclass

import sqlalchemy as sa

from app.catalog.limits import MAX_WATERMARK_LENGTH
from app.credits.models import CreditLedger
from app.errors import ApiError
from app.extensions import db
from app.imaging.overlay import DEFAULT_LABEL
from app.pagination import Page, paginate
from app.projects.models import Workspace
from app.projects.service import workspaces_for
from app.providers.registry import all_providers

AUTOMATIC = ""  # the settings form's value for "no preference"
BUILT_IN_NAME = "The built-in engine (no AI service)"
LEDGER_PAGE_SIZE = 25


@dataclass(frozen=True)
class ServiceChoice:
    """One option of the "AI service" setting: a provider, or one model of it."""

    value: str  # "" (automatic), "<provider>" or "<provider>:<model>"
    label: str


def current_workspace(user) -> Workspace:
    """The workspace a person works in: the first of theirs (the one made when they signed up)."""
    workspaces = workspaces_for(user)
    if not workspaces:
        raise ApiError("You are not a member of any workspace.", status=403, code="forbidden")
    return workspaces[0]


def balance_of(user) -> tuple[Workspace, int] | None:
    """The person's workspace and its credits, or None for someone without one."""
    workspaces = workspaces_for(user)
    return (workspaces[0], workspaces[0].credit_balance) if workspaces else None


def service_choices() -> list[ServiceChoice]:
    """Automatic, the built-in engine, and each connected AI service with each of its models."""
    choices = [ServiceChoice(AUTOMATIC, "Automatic: the best service able to do each job"),
               ServiceChoice("local", BUILT_IN_NAME)]
    for name, provider in sorted(all_providers().items()):
        models = getattr(provider, "models", None)
        if not models:
            continue
        label = getattr(provider, "label", name)
        choices.append(ServiceChoice(name, f"{label}, its usual model"))
        choices.extend(ServiceChoice(f"{name}:{model}", f"{label}, model {model}") for model in models)
    return choices


def choice_value(workspace: Workspace) -> str:
    """The settings form's value for a workspace's current choice."""
    if not workspace.default_provider:
        return AUTOMATIC
    if workspace.default_model:
        return f"{workspace.default_provider}:{workspace.default_model}"
    return workspace.default_provider


def update_settings(workspace: Workspace, watermark_text: str, service: str) -> Workspace:
    """Set the label text (blank: the standard one) and the AI service tried first (only connected ones)."""
    text = " ".join((watermark_text or "").split())
    if len(text) > MAX_WATERMARK_LENGTH:
        raise ApiError(f"Keep the label under {MAX_WATERMARK_LENGTH} characters; it is drawn on the photo.")
    if service not in {choice.value for choice in service_choices()}:
        raise ApiError("That AI service is not connected. Choose one from the list.")
    provider, _, model = service.partition(":")
    workspace.watermark_text = text if text and text != DEFAULT_LABEL else None
    workspace.default_provider = provider or None
    workspace.default_model = model or None
    db.session.flush()
    return workspace


def label_of(workspace: Workspace) -> str:
    """The text drawn on staged photos for this workspace."""
    return workspace.watermark_text or DEFAULT_LABEL


def ledger_page(workspace: Workspace, offset: int = 0, limit: int = LEDGER_PAGE_SIZE) -> Page:
    """One page of the workspace's credit movements, newest first."""
    query = sa.select(CreditLedger).where(CreditLedger.workspace_id == workspace.id)
    return paginate(query, (CreditLedger.created_at.desc(), CreditLedger.id.desc()), limit, offset)
