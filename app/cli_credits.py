"""Operator commands for credits: `flask credits grant 3 25 --reason "promo"` and `flask credits deduct …`."""
import click

from app.admin import service as admin_service
from app.errors import ApiError
from app.extensions import db
from app.pagination import MAX_INTEGER
from app.projects.models import Workspace

WORKSPACE_ID = click.IntRange(1, MAX_INTEGER)
AMOUNT = click.IntRange(1, admin_service.MAX_ADJUSTMENT)


@click.group("credits")
def credits_group():
    """Grant or deduct a workspace's credits; every change is a ledger row with its reason."""


def _adjust(workspace_id: int, action: str, amount: int, reason: str) -> None:
    workspace = db.session.get(Workspace, workspace_id)
    if workspace is None:
        raise click.ClickException(f"No workspace with id {workspace_id}")
    try:
        entry = admin_service.adjust_credits(workspace, action, amount, reason, actor=None)
    except ApiError as error:
        raise click.ClickException(error.message) from None
    db.session.commit()
    click.echo(f"{workspace.name} (id {workspace_id}): {entry.amount:+d} credits, balance now {entry.balance_after}")


@credits_group.command("grant")
@click.argument("workspace_id", type=WORKSPACE_ID)
@click.argument("amount", type=AMOUNT)
@click.option("--reason", required=True, help="kept in the ledger")
def grant(workspace_id, amount, reason):
    """Add credits to a workspace."""
    _adjust(workspace_id, "grant", amount, reason)


@credits_group.command("deduct")
@click.argument("workspace_id", type=WORKSPACE_ID)
@click.argument("amount", type=AMOUNT)
@click.option("--reason", required=True, help="kept in the ledger")
def deduct(workspace_id, amount, reason):
    """Take credits from a workspace; refused if that would overdraw it."""
    _adjust(workspace_id, "deduct", amount, reason)
