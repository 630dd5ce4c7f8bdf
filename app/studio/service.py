"""The studio's rules: batches of work on a listing's photos, their price, and what each photo's card shows."""
from dataclasses import dataclass

import sqlalchemy as sa

from app.catalog.presets import PRESETS, STAGING_ROOM_TYPES, STAGING_STYLES
from app.credits import service as credits
from app.errors import ApiError
from app.extensions import db
from app.formkeys import form_key_of
from app.generations import page_keys
from app.generations.models import Generation
from app.generations.service import create_generation, get_generation, retry_generation
from app.images.models import Image
from app.studio import saved
from app.studio.cards import BatchProgress, card_states, latest_batch, snapshot  # noqa: F401 (the listing page's)
from app.studio.choices import Choice, bar_offers, parse_choice, price_offer, refusal_words
from app.studio.models import Batch, SavedPreset

MAX_BATCH_PHOTOS = 500


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
        return Quote(choice, len(photos), None, balance, refusal_words(offer, choice.prompt))
    return Quote(choice, len(photos), offer.credits, balance)


def apply_to_photos(project, user, choice: Choice, photos: list[Image], expected_credits: int | None = None,
                    form_key: str | None = None):
    """One batch: a generation per photo, all reserved in this transaction or none (402 when credits are short);
    `form_key` (the confirm's) is recorded on it, unique per listing, so a twin sent at once fails to flush."""
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
                  prompt=choice.prompt or "", photo_count=len(photos), form_key=form_key)
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


def retry_work(project, user, generation_id: str, form_key: str | None = None) -> Generation:
    """Run a photo's finished work again, in the same batch, remembering the retry button's key."""
    original = get_generation(project, generation_id)
    generation = retry_generation(project, original, user=user)
    generation.batch_id = original.batch_id
    return page_keys.remember_key(generation, form_key)


def retried_for_key(project, form_key: str | None) -> Generation | None:
    """The work the listing's retry button with this key already started, if any."""
    return page_keys.generation_for_key(project.id, form_key)


def batch_for_key(project, form_key: str | None) -> Batch | None:
    """The batch the listing's confirm with this key already started, if any."""
    if not form_key:
        return None
    return db.session.scalar(sa.select(Batch).where(Batch.project_id == project.id, Batch.form_key == form_key))


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
    """The bar's confirm: its choice on the selected photos, at the price it showed (expected_credits), as a batch
    that remembers the confirm's key (the view answers a repeat of the key with that batch: `once_per_key`)."""
    form_key = form_key_of(form)
    expected = form.get("expected_credits", type=int)
    choice = parse_choice(project.workspace_id, form)
    photos = selected_photos(project, form.getlist("image_ids"))
    return apply_to_photos(project, user, choice, photos, expected, form_key)


def quote_after_batch(project, form) -> Quote:
    """The bar's price line once a batch started: the same choice, no photos selected any more."""
    try:
        choice = parse_choice(project.workspace_id, form)
    except ApiError:
        choice = None
    return quote(project, choice, [])


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
