"""Photo-description sessions: the photos a caller sends in, and what was written about each."""
import enum
import secrets
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.formkeys import FORM_KEY_LENGTH
from app.timeutil import utcnow


def new_session_id() -> str:
    return f"sess_{secrets.token_hex(12)}"


def new_analysis_id() -> str:
    return f"img_{secrets.token_hex(12)}"


class AnalysisStatus(str, enum.Enum):
    PENDING = "pending"  # uploaded, not asked for yet
    QUEUED = "queued"
    PROCESSING = "processing"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


ACTIVE_STATUSES = (AnalysisStatus.QUEUED, AnalysisStatus.PROCESSING)


class AnalysisSession(db.Model):
    __tablename__ = "analysis_sessions"
    __table_args__ = (
        sa.Index("ix_analysis_sessions_project_created", "project_id", "created_at"),
        sa.UniqueConstraint("project_id", "form_key", name="uq_analysis_sessions_project_form_key"),
    )

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True, default=new_session_id)
    project_id: Mapped[int] = mapped_column(sa.ForeignKey("projects.id", ondelete="CASCADE"))
    # Listing context woven into the text: address, city, bedrooms, style keywords, brand voice.
    context: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    # Each press of "analyse" is a run; its events and its completion count belong to it.
    run: Mapped[int] = mapped_column(default=0)
    run_total: Mapped[int] = mapped_column(default=0)
    run_cursor: Mapped[str] = mapped_column(sa.String(40), default="0")
    # The key of the "Describe" form that opened it: the same form sent again opens this session, charging nothing.
    form_key: Mapped[str | None] = mapped_column(sa.String(FORM_KEY_LENGTH))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)

    analyses: Mapped[list["Analysis"]] = relationship(
        back_populates="session", order_by="Analysis.position", cascade="all, delete-orphan", passive_deletes=True
    )


class Analysis(db.Model):
    __tablename__ = "analyses"
    __table_args__ = (sa.Index("ix_analyses_session_position", "session_id", "position"),)

    id: Mapped[str] = mapped_column(sa.String(40), primary_key=True, default=new_analysis_id)
    session_id: Mapped[str] = mapped_column(sa.ForeignKey("analysis_sessions.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(default=0)
    # A project photo added by id (its file stays the project's), or None for a session upload.
    image_id: Mapped[str | None] = mapped_column(sa.ForeignKey("images.id", ondelete="SET NULL"))
    storage_key: Mapped[str] = mapped_column(sa.String(255))
    # The reference callers send back; never a filesystem path.
    upload_path: Mapped[str] = mapped_column(sa.String(255))
    original_filename: Mapped[str | None] = mapped_column(sa.String(255))
    room_hint: Mapped[str | None] = mapped_column(sa.String(40))
    width: Mapped[int] = mapped_column(default=0)
    height: Mapped[int] = mapped_column(default=0)
    status: Mapped[AnalysisStatus] = mapped_column(
        sa.Enum(AnalysisStatus, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e]),
        default=AnalysisStatus.PENDING,
    )
    run: Mapped[int] = mapped_column(default=0)
    analyzer: Mapped[str | None] = mapped_column(sa.String(32))
    result: Mapped[dict | None] = mapped_column(sa.JSON)
    error: Mapped[str | None] = mapped_column(sa.String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    queued_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]

    session: Mapped[AnalysisSession] = relationship(back_populates="analyses", lazy="raise")  # code uses session_id

    @property
    def is_uploaded(self) -> bool:
        return self.image_id is None
