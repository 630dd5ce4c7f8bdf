"""Every table of the app, imported in one place so Alembic and SQLAlchemy see them all."""
from app.analysis.models import Analysis, AnalysisSession
from app.auth.models import ApiKey, User
from app.compat.process_image.models import ImageGenerationRecord
from app.credits.models import CreditLedger
from app.exports.models import Export
from app.flows.models import Flow
from app.generations.models import Generation
from app.idempotency.models import IdempotencyRecord
from app.images.models import Image
from app.live.models import LiveEntry
from app.projects.models import Membership, Project, Workspace
from app.studio.models import Batch, SavedPreset
from app.webhooks.models import WebhookAttempt, WebhookDelivery

__all__ = [
    "Analysis", "AnalysisSession", "ApiKey", "Batch", "CreditLedger", "Export", "Flow", "Generation", "IdempotencyRecord",
    "Image", "ImageGenerationRecord", "LiveEntry", "Membership", "Project", "SavedPreset", "User", "WebhookAttempt",
    "WebhookDelivery", "Workspace",
]
