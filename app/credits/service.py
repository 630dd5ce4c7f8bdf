"""Credits: every movement is a ledger row written with a guarded update of the balance."""
import sqlalchemy as sa
from flask import current_app

from app.credits.models import CreditLedger, LedgerKind
from app.errors import ApiError
from app.extensions import db
from app.projects.models import Workspace


class InsufficientCredits(ApiError):
    def __init__(self, needed: int, available: int):
        super().__init__(
            f"Not enough credits: this needs {needed} credit{'s' if needed != 1 else ''} "
            f"and the workspace has {available}. Ask an admin for more credits.",
            status=402,
            code="insufficient_credits",
        )
        self.needed, self.available = needed, available


def record(
    workspace_id: int,
    kind: LedgerKind,
    amount: int,
    *,
    actor=None,
    reason: str = "",
    generation_id: str | None = None,
    require_funds: bool = False,
) -> CreditLedger:
    """Move credits and append the ledger row; with require_funds the balance may not go below zero."""
    statement = sa.update(Workspace).where(Workspace.id == workspace_id)
    if require_funds and amount < 0:
        statement = statement.where(Workspace.credit_balance >= -amount)
    statement = statement.values(credit_balance=Workspace.credit_balance + amount).returning(Workspace.credit_balance)
    balance_after = db.session.execute(statement, execution_options={"synchronize_session": False}).scalar()
    if balance_after is None:
        raise InsufficientCredits(-amount, balance(workspace_id))
    entry = CreditLedger(
        workspace_id=workspace_id,
        kind=kind,
        amount=amount,
        balance_after=balance_after,
        actor_id=actor.id if actor else None,
        reason=reason[:255],
        generation_id=generation_id,
    )
    db.session.add(entry)
    db.session.flush()
    return entry


def balance(workspace_id: int) -> int:
    return db.session.scalar(sa.select(Workspace.credit_balance).where(Workspace.id == workspace_id)) or 0


def ledger_total(workspace_id: int) -> int:
    """The sum of the ledger, which the balance must always equal."""
    total = db.session.scalar(sa.select(sa.func.sum(CreditLedger.amount)).where(CreditLedger.workspace_id == workspace_id))
    return total or 0


def grant_free_credits(workspace: Workspace) -> None:
    amount = current_app.config["FREE_CREDITS"]
    if amount > 0:
        record(workspace.id, LedgerKind.GRANT, amount, reason="Free credits for a new workspace")


def adjust(workspace_id: int, amount: int, actor, reason: str) -> CreditLedger:
    """An admin's grant (positive) or deduction (negative); a deduction cannot overdraw."""
    reason = (reason or "").strip()
    if not reason:
        raise ApiError("Give a reason for the adjustment; it is kept in the ledger.")
    if amount == 0:
        raise ApiError("The amount must not be zero.")
    kind = LedgerKind.GRANT if amount > 0 else LedgerKind.ADJUST
    return record(workspace_id, kind, amount, actor=actor, reason=reason, require_funds=True)


def reserve(workspace_id: int, generation_id: str, cost: int, actor=None) -> None:
    """Hold a generation's cost; 402 saying what is needed and available if the balance is short."""
    record(workspace_id, LedgerKind.RESERVE, -cost, actor=actor, reason="Reserved for a generation",
           generation_id=generation_id, require_funds=True)


def capture(workspace_id: int, generation_id: str) -> None:
    """Make a reservation final (the credits already left the balance when reserved)."""
    record(workspace_id, LedgerKind.CAPTURE, 0, reason="Generation succeeded", generation_id=generation_id)


def refund(workspace_id: int, generation_id: str, cost: int, reason: str) -> None:
    """Give a reservation back."""
    record(workspace_id, LedgerKind.REFUND, cost, reason=reason, generation_id=generation_id)
