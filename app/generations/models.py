"""Generations: one request for work on images, and its life from queued to a terminal state."""
import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.catalog.limits import API_STATUS_WORDS, DEFAULT_OUTPUT_FORMAT
from app.extensions import db
from app.images.models import Image, new_uuid
from app.timeutil import utcnow


class GenerationStatus(str, enum.Enum):
    QUEUED = "queued"
    PROCESSING = "processing"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL_STATUSES

    @property
    def api_word(self) -> str:
        """The v1 API's word for this status: pending, processing, success or failed."""
        return API_STATUS_WORDS[self.value]


TERMINAL_STATUSES = frozenset({GenerationStatus.SUCCEEDED, GenerationStatus.FAILED, GenerationStatus.CANCELED})


class Generation(db.Model):
    __tablename__ = "generations"
    __table_args__ = (
        sa.Index("ix_generations_project_created", "project_id", "created_at"),
        sa.Index("ix_generations_status_created", "status", "created_at"),
        sa.UniqueConstraint("project_id", "idempotency_key", name="uq_generations_idempotency"),
    )

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True, default=new_uuid)
    project_id: Mapped[int] = mapped_column(sa.ForeignKey("projects.id", ondelete="CASCADE"))
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    api_key_id: Mapped[int | None] = mapped_column(sa.ForeignKey("api_keys.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(sa.String(20), default="edit")
    prompt: Mapped[str] = mapped_column(sa.Text, default="")
    preset: Mapped[str | None] = mapped_column(sa.String(64))
    reference_image_ids: Mapped[list] = mapped_column(sa.JSON, default=list)
    # The first reference, as a column so a photo's page can list the work done on it by index.
    source_image_id: Mapped[str | None] = mapped_column(sa.String(36), index=True)
    # The references as the caller gave them (ids or aliases), re-resolved when the generation is retried.
    reference_inputs: Mapped[list] = mapped_column(sa.JSON, default=list)
    aspect_ratio: Mapped[str | None] = mapped_column(sa.String(10))
    resolution: Mapped[str | None] = mapped_column(sa.String(10))
    num_images: Mapped[int] = mapped_column(default=1)
    output_format: Mapped[str] = mapped_column(sa.String(8), default=DEFAULT_OUTPUT_FORMAT)
    watermark: Mapped[str | None] = mapped_column(sa.String(80))
    # Inpainting: the stored mask (white = change) the result is confined to.
    mask_key: Mapped[str | None] = mapped_column(sa.String(255))
    is_placeholder: Mapped[bool] = mapped_column(default=False)
    provider: Mapped[str] = mapped_column(sa.String(32))
    model: Mapped[str | None] = mapped_column(sa.String(100))
    # The AI provider's id for the request working on this generation (looked up when it calls back).
    upstream_request_id: Mapped[str | None] = mapped_column(sa.String(255), index=True)
    priority: Mapped[int] = mapped_column(default=0)
    # The RQ job of the current attempt: the generation id first, "<id>-<attempt>" for retries.
    rq_job_id: Mapped[str | None] = mapped_column(sa.String(64))
    attempts: Mapped[int] = mapped_column(default=0)
    cancel_requested_at: Mapped[datetime | None]
    status: Mapped[GenerationStatus] = mapped_column(
        sa.Enum(GenerationStatus, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e]),
        default=GenerationStatus.QUEUED,
    )
    progress_done: Mapped[int] = mapped_column(default=0)
    progress_total: Mapped[int] = mapped_column(default=0)
    progress_message: Mapped[str | None] = mapped_column(sa.String(255))
    error_code: Mapped[str | None] = mapped_column(sa.String(64))
    error_message: Mapped[str | None] = mapped_column(sa.Text)
    cost: Mapped[int] = mapped_column(default=0)
    idempotency_key: Mapped[str | None] = mapped_column(sa.String(255))
    callback_url: Mapped[str | None] = mapped_column(sa.String(2048))
    # The API the caller used (v1, fal, nanobanana…): the shape of its callback and status answers.
    surface: Mapped[str] = mapped_column(sa.String(16), default="v1", server_default="v1")
    retry_of_id: Mapped[str | None] = mapped_column(sa.String(36), index=True)
    flow_id: Mapped[str | None] = mapped_column(sa.ForeignKey("flows.id", ondelete="SET NULL"), index=True)
    # The studio's batch this generation belongs to (one preset applied to a selection of photos).
    batch_id: Mapped[str | None] = mapped_column(sa.ForeignKey("batches.id", ondelete="SET NULL"), index=True)
    # Aliases to give the output image: in the project, and in the generation's flow.
    assign_alias: Mapped[str | None] = mapped_column(sa.String(64))
    assign_flow_alias: Mapped[str | None] = mapped_column(sa.String(64))
    original_prompt: Mapped[str | None] = mapped_column(sa.Text)
    # The prompt the provider was sent: the caller's words with the preset's (or auto-enhance) wording.
    provider_prompt: Mapped[str | None] = mapped_column(sa.Text)
    # An exact output size asked for (pipelet's width and height): the result is cropped and resized to it.
    target_width: Mapped[int | None]
    target_height: Mapped[int | None]
    # The caller's API is documented as an AI model: a retry or fallback never hands it to the built-in engine.
    promises_ai: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    meta: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    deleted_at: Mapped[datetime | None]

    outputs: Mapped[list[Image]] = relationship(
        primaryjoin="Image.generation_id == Generation.id", foreign_keys="Image.generation_id", order_by="Image.created_at"
    )

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES

    @property
    def percent(self) -> int:
        if self.status is GenerationStatus.SUCCEEDED:
            return 100
        return int(100 * self.progress_done / self.progress_total) if self.progress_total else 0
