"""A page action that starts a generation remembers its form's key on it, so sending the form again answers
the generation already started instead of charging a second time."""
import sqlalchemy as sa

from app.extensions import db
from app.generations.models import Generation

# Keeps page keys apart from any other use of the generation's idempotency key.
PREFIX = "form:"


def generation_for_key(project_id: int, key: str | None) -> Generation | None:
    """The generation the project's form with this key already started, if any."""
    if not key:
        return None
    query = sa.select(Generation).where(Generation.project_id == project_id, Generation.idempotency_key == PREFIX + key)
    return db.session.scalar(query)


def remember_key(generation: Generation, key: str | None) -> Generation:
    """Record the form's key on the generation it started (unique per project), in the same transaction."""
    if key:
        generation.idempotency_key = PREFIX + key
        db.session.flush()
    return generation
