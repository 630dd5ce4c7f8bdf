"""Shared pieces of the per-surface conformance tests (tests/test_conformance_*.py), written from each spec."""
import sqlalchemy as sa

from app.credits.models import CreditLedger, LedgerKind
from app.extensions import db
from app.providers import registry
from tests.upstreams import gemini as gemini_module
from tests.upstreams import nanobanana as nanobanana_module

# A conformance assertion that holds only once the central rule (route → size → price) is merged.


def connect_all(app, fal_queue, nanobanana_upstream, gemini_upstream) -> None:
    """fal, nanobanana and Gemini connected, as an administrator would with their keys, on their stand-ins."""
    app.config.update({
        "FAL_KEY": fal_queue.key, "FAL_QUEUE_URL": fal_queue.url,
        "NANOBANANA_API_KEY": nanobanana_module.API_KEY, "NANOBANANA_BASE_URL": nanobanana_upstream.base_url,
        "GEMINI_API_KEY": gemini_module.API_KEY, "GEMINI_BASE_URL": gemini_upstream.base_url,
        "PROVIDER_POLL_INTERVAL": 0.01, "PROVIDER_POLL_MAX": 0.05, "OUTBOUND_ALLOWLIST": ("127.0.0.1",),
        "RETRY_BACKOFF": 0,
    })
    registry.configure(app)


def ledger_rows() -> int:
    """Every credit movement so far (a refusal before charging leaves none)."""
    return db.session.scalar(sa.select(sa.func.count(CreditLedger.id)).where(CreditLedger.kind != LedgerKind.GRANT))
