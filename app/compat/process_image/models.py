"""An image generation record: a photo and the style prompt to apply to it, prepared now and processed later.

It holds no state of its own beyond what was asked: once processed it points at the generation doing
the work, whose status, result and credits are the truth (a new generation for each attempt).
"""
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.generations.models import Generation, GenerationStatus
from app.images.models import Image, new_uuid
from app.timeutil import utcnow

# process-image's words for the generation's status; a record never processed is "pending".
STATUS_WORDS = {
    GenerationStatus.QUEUED: "processing",
    GenerationStatus.PROCESSING: "processing",
    GenerationStatus.SUCCEEDED: "completed",
    GenerationStatus.FAILED: "failed",
    GenerationStatus.CANCELED: "failed",
}


class ImageGenerationRecord(db.Model):
    __tablename__ = "image_generation_records"
    __table_args__ = (sa.Index("ix_image_generation_records_project_created", "project_id", "created_at"),)

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True, default=new_uuid)
    project_id: Mapped[int] = mapped_column(sa.ForeignKey("projects.id", ondelete="CASCADE"))
    image_id: Mapped[str] = mapped_column(sa.ForeignKey("images.id", ondelete="CASCADE"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    api_key_id: Mapped[int | None] = mapped_column(sa.ForeignKey("api_keys.id", ondelete="SET NULL"))
    prompt: Mapped[str] = mapped_column(sa.Text)
    # Inpainting: the stored mask (white = change, black = keep) of the region the prompt applies to.
    mask_key: Mapped[str | None] = mapped_column(sa.String(255))
    # The latest attempt; None until the record is processed.
    generation_id: Mapped[str | None] = mapped_column(
        sa.ForeignKey("generations.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    image: Mapped[Image] = relationship()
    generation: Mapped[Generation | None] = relationship()

    @property
    def status(self) -> str:
        """pending, processing, completed or failed."""
        return STATUS_WORDS[self.generation.status] if self.generation else "pending"
