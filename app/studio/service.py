"""The studio's rules: batches of work on a listing's photos, their price, and what each photo's card shows."""
from dataclasses import dataclass

import sqlalchemy as sa

from app.catalog.presets import PRESETS, STAGING_ROOM_TYPES, STAGING_STYLES
from app.credits import service as credits
from app.errors import ApiError
from app.extensions import db
from app.generations.models import Generation, GenerationStatus
from app.generations.service import WITH_OUTPUTS, create_generation, get_generation, retry_generation
from app.images.models import Image
from app.images.service import listing_photos
from app.studio import saved
from app.studio.choices import Choice, bar_offers, parse_choice, price_offer, refusal_words
from app.studio.models import Batch, SavedPreset

MAX_BATCH_PHOTOS = 500
FAILED_WORDS = "Something went wrong with this photo."


@dataclass(frozen=True)
class Quote:
    """The price of a choice for the selected photos, and what stands in the way of running it."""

    choice: Choice | None
    photos: int
    per_photo: int | None
    balance: int
    unavailable: str | None = None

    @property
    def total(self) -> int:
        return (self.per_photo or 0) * self.photos

    @property
    def missing(self) -> int:
        return max(0, self.total - self.balance)

    @property
    def ready(self) -> bool:
        return self.choice is not None and self.photos > 0 and not self.unavailable and not self.missing


def selected_photos(project, image_ids) -> list[Image]:
    """The live photos of the listing with these ids, in the order given; 404 when one is not the listing's."""
    wanted = list(dict.fromkeys(str(image_id) for image_id in image_ids if image_id))
    if len(wanted) > MAX_BATCH_PHOTOS:
        raise ApiError(f"Select at most {MAX_BATCH_PHOTOS} photos at a time.")
    query = sa.select(Image).where(Image.project_id == project.id, Image.id.in_(wanted), Image.deleted_at.is_(None))
    found = {image.id: image for image in db.session.scalars(query)}
    if len(found) != len(wanted):
        raise ApiError("Photo not found: it may have been deleted. Reload the page.", status=404, code="not_found")
    return [found[image_id] for image_id in wanted]


def quote(project, choice: Choice | None, photos: list[Image]) -> Quote:
    """What applying the choice to these photos costs, against the workspace's balance."""
    balance = credits.balance(project.workspace_id)
    if choice is None:
        return Quote(None, len(photos), None, balance)
    offer = price_offer(project, choice)
    if not offer.available:
        return Quote(choice, len(photos), None, balance, refusal_words(offer))
    return Quote(choice, len(photos), offer.credits, balance)


def apply_to_photos(project, user, choice: Choice, photos: list[Image], expected_credits: int | None = None):
    """One batch: a generation per photo, all reserved in this transaction or none (402 when credits are short)."""
    if not photos:
        raise ApiError("Select the photos to change first.")
    price = quote(project, choice, photos)
    if price.unavailable:
        raise ApiError(price.unavailable, code="unavailable")
    if expected_credits is not None and expected_credits != price.total:
        raise ApiError(f"The price changed to {price.total} credits since it was shown: check it and confirm again.",
                       status=409, code="conflict")
    if price.missing:
        raise ApiError(short_words(price), status=402, code="insufficient_credits")
    batch = Batch(project_id=project.id, created_by_id=user.id if user else None, preset=choice.preset,
                  prompt=choice.prompt or "", photo_count=len(photos))
    db.session.add(batch)
    db.session.flush()
    generations = [create_generation(project, choice.spec_for(photo), user=user) for photo in photos]
    for generation in generations:
        generation.batch_id = batch.id
    batch.credits = sum(generation.cost for generation in generations)
    db.session.flush()
    return batch


def short_words(price: Quote) -> str:
    """A short balance in an agent's words."""
    return (f"Not enough credits: {price.photos} photo{'s' if price.photos != 1 else ''} need {price.total} and you "
            f"have {price.balance}, {price.missing} short. Select fewer photos or ask your administrator for credits.")


def retry_work(project, user, generation_id: str) -> Generation:
    """Run a photo's finished work again, in the same batch."""
    original = get_generation(project, generation_id)
    generation = retry_generation(project, original, user=user)
    generation.batch_id = original.batch_id
    db.session.flush()
    return generation


@dataclass(frozen=True)
class CardState:
    """A photo's latest work as its card shows it."""

    generation: Generation

    @property
    def word(self) -> str:
        return {
            GenerationStatus.QUEUED: "waiting", GenerationStatus.PROCESSING: "working",
            GenerationStatus.SUCCEEDED: "done", GenerationStatus.FAILED: "failed", GenerationStatus.CANCELED: "stopped",
        }[self.generation.status]

    @property
    def finished(self) -> bool:
        return self.generation.is_terminal

    @property
    def result(self) -> Image | None:
        outputs = self.generation.outputs
        return outputs[0] if outputs and self.generation.status is GenerationStatus.SUCCEEDED else None

    @property
    def reason(self) -> str:
        return self.generation.error_message or FAILED_WORDS


def latest_work(project, photo_ids) -> dict[str, Generation]:
    """The newest live generation on each of these photos, in one query (and one for their results)."""
    if not photo_ids:
        return {}
    newest = sa.func.row_number().over(
        partition_by=Generation.source_image_id, order_by=(Generation.created_at.desc(), Generation.id.desc())
    )
    ranked = (
        sa.select(Generation.id, newest.label("rank"))
        .where(Generation.project_id == project.id, Generation.source_image_id.in_(list(photo_ids)),
               Generation.deleted_at.is_(None))
        .subquery()
    )
    query = sa.select(Generation).join(ranked, ranked.c.id == Generation.id).where(ranked.c.rank == 1)
    return {generation.source_image_id: generation for generation in db.session.scalars(query.options(WITH_OUTPUTS))}


def card_states(project, images) -> dict:
    """Each photo's latest work, by photo id, for its card on the listing page (photos without work are left out)."""
    return {photo_id: CardState(generation) for photo_id, generation in latest_work(project, [i.id for i in images]).items()}


@dataclass(frozen=True)
class BatchProgress:
    """How far the listing's latest batch is, counted on its photos' latest work."""

    batch: Batch
    label: str
    total: int
    done: int
    failed: int
    failed_photos: list

    @property
    def finished(self) -> bool:
        return self.done + self.failed >= self.total


def latest_batch(project, states: dict | None = None) -> BatchProgress | None:
    """The progress of the listing's newest batch (states: card states already read, by photo id)."""
    batch = db.session.scalar(
        sa.select(Batch).where(Batch.project_id == project.id).order_by(Batch.created_at.desc(), Batch.id).limit(1)
    )
    if batch is None:
        return None
    photo_ids = list(db.session.scalars(
        sa.select(Generation.source_image_id).where(Generation.batch_id == batch.id).distinct()
    ))
    if states is None or not set(photo_ids) <= states.keys():
        states = {photo_id: CardState(generation) for photo_id, generation in latest_work(project, photo_ids).items()}
    mine = [states[photo_id] for photo_id in photo_ids if photo_id in states]
    failed = [state for state in mine if state.word in ("failed", "stopped")]
    return BatchProgress(
        batch, batch_label(batch), len(mine), sum(state.word == "done" for state in mine), len(failed),
        [state.generation.source_image_id for state in failed],
    )


def batch_label(batch: Batch) -> str:
    """What the batch did, in the bar's words."""
    preset = PRESETS.get(batch.preset or "")
    return preset.name if preset else "Your instructions"


@dataclass(frozen=True)
class Snapshot:
    """What the listing's watchers see: every photo's card state and the latest batch's progress."""

    photos: list
    states: dict
    batch: BatchProgress | None

    @property
    def active(self) -> bool:
        return any(not state.finished for state in self.states.values())


def snapshot(project) -> Snapshot:
    """One read of the listing's photos, their latest work and the latest batch."""
    photos = listing_photos(project)
    states = card_states(project, photos)
    return Snapshot(photos, states, latest_batch(project, states))


def quote_for_form(project, form) -> Quote:
    """The bar's price line for its current fields and selection; a choice still incomplete says what is missing."""
    photos = selected_photos(project, form.getlist("image_ids"))
    try:
        choice = parse_choice(project.workspace_id, form)
    except ApiError as problem:
        if problem.status == 404:
            raise
        return Quote(None, len(photos), None, credits.balance(project.workspace_id), problem.message)
    return quote(project, choice, photos)


def apply_from_form(project, user, form) -> Batch:
    """The bar's confirm: its choice on the selected photos, at the price it showed (expected_credits)."""
    expected = form.get("expected_credits", type=int)
    choice = parse_choice(project.workspace_id, form)
    return apply_to_photos(project, user, choice, selected_photos(project, form.getlist("image_ids")), expected)


def save_from_form(project, user, form) -> SavedPreset:
    """Save the bar's prompt, or the prompt behind a result (generation_id), under the name given."""
    prompt = form.get("prompt")
    if form.get("generation_id"):
        generation = get_generation(project, form["generation_id"])
        prompt = generation.original_prompt or generation.prompt
    return saved.save_preset(project.workspace_id, user, form.get("name"), prompt)


@dataclass(frozen=True)
class Bar:
    """Everything the apply bar shows."""

    offers: list
    saved: list
    checked: str
    quote: Quote
    batch: BatchProgress | None
    staging_styles: tuple = tuple(STAGING_STYLES)
    staging_rooms: tuple = STAGING_ROOM_TYPES


def apply_bar(project, checked: str | None = None) -> Bar:
    """The bar as it first appears: Enhance (or the first preset that can run) chosen, no photos selected yet."""
    offers = bar_offers(project)
    if checked is None:
        able = [offer.value for offer in offers if not offer.unavailable]
        checked = "preset:enhance" if "preset:enhance" in able else (able[0] if able else "prompt")
    choice = None
    if checked.startswith("preset:"):
        preset = PRESETS[checked[len("preset:"):]]
        choice = Choice(preset.name, preset.name, preset=preset.id)
    price = quote(project, choice, [])
    return Bar(offers, saved.saved_presets(project.workspace_id), checked, price, latest_batch(project))
