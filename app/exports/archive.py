"""The zip of a listing's photos: finals and originals named by order and room, and the captions."""
import csv
import io
import zipfile

import sqlalchemy as sa
from flask import current_app

from app.analysis.models import Analysis, AnalysisStatus
from app.catalog.presets import PRESETS
from app.extensions import db
from app.images.models import Image
from app.images.storage import storage
from app.imaging.io import encode_image, load_photo
from app.imaging.overlay import DEFAULT_LABEL, watermark
from app.projects.models import Project, Workspace
from app.versions.service import file_stem, final_versions, generation_of

CAPTION_COLUMNS = ("file", "original_file", "title", "alt", "caption", "description", "room")


def needs_label(photo: Image, final: Image) -> bool:
    """A final made by a preset that alters the room must say so; one already labelled is left alone."""
    generation = generation_of(photo, final)
    if generation is None or generation.watermark:
        return False
    preset = PRESETS.get(generation.preset or "")
    return bool(preset and preset.labelled)


def final_jpeg(final: Image, label: str | None) -> bytes:
    """The final version as JPEG bytes: as stored when it already is one and needs no label."""
    data = storage().get(final.storage_key)
    if final.mime == "image/jpeg" and not label:
        return data
    pixels = load_photo(data, max_pixels=current_app.config["MAX_IMAGE_PIXELS"]).image
    if label:
        pixels = watermark(pixels, text=label)
    return encode_image(pixels, "JPEG", quality=92)


def write_zip(export, photos: list[tuple[int, Image]], report, into) -> None:
    """The zip written into a file, one photo at a time (only one is held in memory); report(done) after each."""
    finals = final_versions([photo for _, photo in photos])
    label = _label_text(export.project_id)
    rows = []
    with zipfile.ZipFile(into, "w", compression=zipfile.ZIP_STORED) as archive:
        for done, (order, photo) in enumerate(photos, start=1):
            stem, final = file_stem(photo, order), finals[photo.id]
            archive.writestr(f"finals/{stem}.jpg", final_jpeg(final, label if needs_label(photo, final) else None))
            if export.include_originals:
                archive.writestr(f"originals/{stem}.{photo.extension}", storage().get(photo.storage_key))
            rows.append((f"finals/{stem}.jpg", photo))
            report(done)
        captions = captions_csv(rows)
        if captions:
            archive.writestr("captions.csv", captions)


def _label_text(project_id: int) -> str:
    project = db.session.get(Project, project_id)
    workspace = db.session.get(Workspace, project.workspace_id)
    return workspace.watermark_text or DEFAULT_LABEL


def captions_csv(rows: list[tuple[str, Image]]) -> str | None:
    """The analyzer's words for each photo described, by zip file name; None when none was."""
    described = latest_analyses([photo.id for _, photo in rows])
    if not described:
        return None
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CAPTION_COLUMNS)
    for name, photo in rows:
        result = described.get(photo.id)
        if result is not None:
            writer.writerow([name, photo.original_filename or "", *(result.get(key) or "" for key in
                             ("title", "alt", "caption", "description", "roomType"))])
    return buffer.getvalue()


def latest_analyses(photo_ids: list[str]) -> dict[str, dict]:
    """The newest finished description of each photo, by photo id."""
    if not photo_ids:
        return {}
    query = (
        sa.select(Analysis.image_id, Analysis.result)
        .where(Analysis.image_id.in_(photo_ids), Analysis.status == AnalysisStatus.SUCCEEDED,
               Analysis.result.is_not(None))
        .order_by(Analysis.finished_at.desc())
    )
    found: dict[str, dict] = {}
    for image_id, result in db.session.execute(query):
        if isinstance(result, dict):
            found.setdefault(image_id, result)
    return found
