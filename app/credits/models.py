"""The credit ledger: append-only rows, one per movement of a workspace's credits."""
import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.timeutil import utcnow


class LedgerKind(str, enum.Enum):
    GRANT = "grant"
    RESERVE = "reserve"
    CAPTURE = "capture"
    REFUND = "refund"
    ADJUST = "adjust"


class CreditLedger(db.Model):
    __tablename__ = "credit_ledger"
    __table_args__ = (
        sa.Index("ix_credit_ledger_workspace_created", "workspace_id", "created_at"),
        sa.Index("ix_credit_ledger_kind_created", "kind", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(sa.ForeignKey("workspaces.id", ondelete="CASCADE"))
    kind: Mapped[LedgerKind] = mapped_column(
        sa.Enum(LedgerKind, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e])
    )
    # Signed: negative takes credits from the balance, positive gives them back; a capture moves nothing.
    amount: Mapped[int]
    balance_after: Mapped[int]
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    reason: Mapped[str] = mapped_column(sa.String(255), default="")
    generation_id: Mapped[str | None] = mapped_column(sa.String(36), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
