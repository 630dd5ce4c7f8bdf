"""Outgoing callbacks: one delivery per event and address, and one row per attempt to deliver it."""
import enum
import secrets
from datetime import datetime
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.timeutil import utcnow

EXCERPT_LENGTH = 500


class DeliveryStatus(str, enum.Enum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


def new_message_id() -> str:
    """A Standard Webhooks message id (sent as webhook-id), the same on every attempt."""
    return "msg_" + secrets.token_hex(16)


class WebhookDelivery(db.Model):
    """One event sent to one callback URL: its body is built once and signed afresh on each attempt."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        sa.Index("ix_webhook_deliveries_project_created", "project_id", "created_at"),
        sa.Index("ix_webhook_deliveries_status_due", "status", "next_attempt_at"),
    )

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True, default=new_message_id)
    project_id: Mapped[int] = mapped_column(sa.ForeignKey("projects.id", ondelete="CASCADE"))
    generation_id: Mapped[str | None] = mapped_column(
        sa.ForeignKey("generations.id", ondelete="SET NULL"), index=True
    )
    # Which API the caller used ("v1", "fal", "nanobanana"…): it picks the body's shape.
    surface: Mapped[str] = mapped_column(sa.String(16), default="v1")
    event_type: Mapped[str] = mapped_column(sa.String(64))
    url: Mapped[str] = mapped_column(sa.String(2048))
    # The exact JSON text sent (and signed) on every attempt; built by the first attempt.
    body: Mapped[str | None] = mapped_column(sa.Text)
    status: Mapped[DeliveryStatus] = mapped_column(
        sa.Enum(DeliveryStatus, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e]),
        default=DeliveryStatus.PENDING,
    )
    attempt_count: Mapped[int] = mapped_column(default=0)
    # Attempts allowed in all; a manual redeliver allows one more.
    attempt_limit: Mapped[int] = mapped_column(default=6)
    next_attempt_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    finished_at: Mapped[datetime | None]

    attempts: Mapped[list["WebhookAttempt"]] = relationship(
        back_populates="delivery", order_by="WebhookAttempt.number", cascade="all, delete-orphan"
    )

    @property
    def where(self) -> str:
        """Host and path of the address: the query may carry the receiver's own secret, so pages never show it."""
        parts = urlsplit(self.url)
        return f"{parts.hostname}{parts.path or '/'}"


class WebhookAttempt(db.Model):
    """One try at a delivery: when, the HTTP status (or the error), how long it took, what came back."""

    __tablename__ = "webhook_attempts"
    __table_args__ = (sa.UniqueConstraint("delivery_id", "number", name="uq_webhook_attempts_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[str] = mapped_column(sa.ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), index=True)
    number: Mapped[int]
    attempted_at: Mapped[datetime] = mapped_column(default=utcnow)
    status_code: Mapped[int | None]
    latency_ms: Mapped[int | None]
    response_excerpt: Mapped[str | None] = mapped_column(sa.String(EXCERPT_LENGTH))
    error: Mapped[str | None] = mapped_column(sa.Text)

    delivery: Mapped[WebhookDelivery] = relationship(back_populates="attempts")

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300
