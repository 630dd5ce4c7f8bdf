"""A finished generation's results: stored as images of its project, with the aliases asked for."""
import hashlib
import logging

import sqlalchemy as sa

from app.extensions import db
from app.flows.models import Flow
from app.generations.models import Generation
from app.images.models import MIME_TYPES, Image
from app.images.service import save_image_files
from app.imaging.io import encode_image
from app.projects.models import Project

log = logging.getLogger(__name__)


def store_outputs(project: Project, generation: Generation, result) -> list[Image]:
    """Encode each result in the requested format and store it (with its thumbnail) as a generated image."""
    outputs = []
    for pixels in result.images:
        data = encode_image(pixels, generation.output_format.upper(), quality=92)
        image = Image(
            project_id=project.id,
            source="generated",
            mime=MIME_TYPES[generation.output_format],
            width=pixels.width,
            height=pixels.height,
            size_bytes=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            generation_id=generation.id,
            flow_id=generation.flow_id,
            meta={**({"placeholder": True} if result.placeholder else {}),
                  **({"notes": list(result.notes)} if getattr(result, "notes", ()) else {})},
        )
        save_image_files(project, image, data, pixels)
        outputs.append(image)
    db.session.add_all(outputs)
    db.session.flush()
    if outputs:
        assign_output_aliases(project, generation, outputs[0])
    return outputs


def assign_output_aliases(project: Project, generation: Generation, image: Image) -> None:
    """Give the first output the aliases the request asked for; a project alias taken meanwhile is skipped."""
    if generation.assign_alias:
        taken = db.session.scalar(
            sa.select(Image.id).where(
                Image.project_id == project.id, Image.alias == generation.assign_alias, Image.deleted_at.is_(None)
            )
        )
        if taken is None:
            image.alias = generation.assign_alias
        else:
            log.warning("alias %s was taken before generation %s finished", generation.assign_alias, generation.id)
    if generation.assign_flow_alias and generation.flow_id:
        flow = db.session.get(Flow, generation.flow_id)
        flow.aliases = {**(flow.aliases or {}), generation.assign_flow_alias: image.id}
    db.session.flush()
