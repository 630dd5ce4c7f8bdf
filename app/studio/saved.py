"""Saved presets: a prompt that worked, kept under a name for everyone in the workspace."""
import sqlalchemy as sa

from app.catalog.limits import MAX_PROMPT_LENGTH
from app.errors import ApiError
from app.extensions import db
from app.studio.models import SavedPreset

MAX_NAME_LENGTH = 80
MAX_SAVED_PRESETS = 50


def saved_presets(workspace_id: int) -> list[SavedPreset]:
    """The workspace's saved presets, by name."""
    query = sa.select(SavedPreset).where(SavedPreset.workspace_id == workspace_id).order_by(SavedPreset.name)
    return list(db.session.scalars(query))


def get_saved_preset(workspace_id: int, saved_id: int) -> SavedPreset:
    """A saved preset of the workspace; 404 otherwise."""
    query = sa.select(SavedPreset).where(SavedPreset.id == saved_id, SavedPreset.workspace_id == workspace_id)
    preset = db.session.scalar(query)
    if preset is None:
        raise ApiError("That saved preset is gone: someone in your workspace may have deleted it.", status=404,
                       code="not_found")
    return preset


def save_preset(workspace_id: int, user, name: str | None, prompt: str | None) -> SavedPreset:
    """Keep a prompt under a name unique in the workspace; 400/409 with what to change."""
    name, prompt = " ".join((name or "").split()), (prompt or "").strip()
    if not name:
        raise ApiError("Give the preset a name, such as “Bright and airy”.")
    if len(name) > MAX_NAME_LENGTH:
        raise ApiError(f"Keep the name under {MAX_NAME_LENGTH} characters.")
    if not prompt:
        raise ApiError("Write the instructions to save first.")
    if len(prompt) > MAX_PROMPT_LENGTH:
        raise ApiError(f"Keep the instructions under {MAX_PROMPT_LENGTH} characters.")
    taken = sa.select(SavedPreset.id).where(SavedPreset.workspace_id == workspace_id, SavedPreset.name == name)
    if db.session.scalar(taken) is not None:
        raise ApiError(f"Your workspace already has a preset called “{name}”: choose another name.", status=409,
                       code="conflict")
    count = sa.select(sa.func.count(SavedPreset.id)).where(SavedPreset.workspace_id == workspace_id)
    if db.session.scalar(count) >= MAX_SAVED_PRESETS:
        raise ApiError(f"Your workspace keeps at most {MAX_SAVED_PRESETS} presets: delete one you no longer use.")
    preset = SavedPreset(workspace_id=workspace_id, created_by_id=user.id if user else None, name=name, prompt=prompt)
    db.session.add(preset)
    db.session.flush()
    return preset


def delete_saved_preset(workspace_id: int, saved_id: int) -> None:
    """Remove a saved preset of the workspace (404 for any other)."""
    db.session.delete(get_saved_preset(workspace_id, saved_id))
    db.session.flush()
