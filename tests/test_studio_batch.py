"""The studio's apply bar and batches: the price for the selection, one batch of generations, refusals in plain words."""
import json
import re

import pytest
import sqlalchemy as sa

from app.credits import service as credits
from app.credits.models import LedgerKind
from app.extensions import db
from app.generations.models import Generation, GenerationStatus
from app.studio.models import Batch, SavedPreset
from tests import factories


def photos(project, count=3):
    return [factories.make_image(project) for _ in range(count)]


def quote_of(client, project, images, **fields):
    data = {"choice": "preset:enhance", "image_ids": [image.id for image in images], **fields}
    return client.post(f"/projects/{project.id}/studio/quote", data=data, headers={"HX-Request": "true"})


def apply(client, project, images, **fields):
    data = {"choice": "preset:enhance", "image_ids": [image.id for image in images], **fields}
    return client.post(f"/projects/{project.id}/studio/batches", data=data, headers={"HX-Request": "true"})


def button_of(html: str) -> str:
    return " ".join(re.search(r'<button type="submit" id="apply-submit"[^>]*>(.*?)</button>', html, re.S)[1].split())


def test_listing_page_loads_the_apply_bar_with_enhance_chosen(logged_in, project):
    page = logged_in.get(f"/projects/{project.id}").get_data(as_text=True)
    assert f'hx-get="/projects/{project.id}/studio"' in page
    bar = logged_in.get(f"/projects/{project.id}/studio").get_data(as_text=True)
    assert 'value="preset:enhance" checked' in bar
    assert "1 credit a photo" in bar
    assert "Select the photos to change" in bar


def test_price_for_the_selection_is_shown_before_confirming(logged_in, project):
    images = photos(project, 3)
    html = quote_of(logged_in, project, images).get_data(as_text=True)
    assert button_of(html) == "Enhance 3 photos · 3 credits"
    assert "you have 50 credits" in html
    assert 'name="expected_credits" value="3"' in html


def test_batch_creates_one_generation_per_photo_and_reserves_the_price_shown(logged_in, project):
    images = photos(project, 3)
    shown = int(re.search(r'name="expected_credits" value="(\d+)"', quote_of(logged_in, project, images).get_data(as_text=True))[1])
    before = credits.balance(project.workspace_id)
    response = apply(logged_in, project, images, expected_credits=shown)
    assert response.status_code == 200, response.get_data(as_text=True)
    # After the swap the page clears the selection, then the balance and the price line look again.
    assert list(json.loads(response.headers["HX-Trigger-After-Settle"])) == ["batch-started", "balance-changed"]
    batch = db.session.scalar(sa.select(Batch))
    generations = list(db.session.scalars(sa.select(Generation).where(Generation.batch_id == batch.id)))
    assert sorted(g.source_image_id for g in generations) == sorted(i.id for i in images)
    assert all(g.status is GenerationStatus.QUEUED and g.preset == "enhance" for g in generations)
    assert before - credits.balance(project.workspace_id) == shown == batch.credits == sum(g.cost for g in generations)
    html = response.get_data(as_text=True)
    assert "Started: Enhance on 3 photos · 3 credits reserved" in html
    assert html.count('hx-swap-oob="true"') == 5  # three cards, the batch bar and the price line
    price_line = html.split('id="apply-quote"')[1].split("</div>")[0]
    assert "Select the photos to change" in price_line
    assert re.search(r'<button type="submit" id="apply-submit" class="apply-submit" disabled>', price_line)
    assert 'name="form_key"' not in price_line  # nothing to confirm until photos are chosen again
    assert "data-watching" in html and "Enhance: 0 of 3 done" in html


def test_short_balance_refuses_the_whole_batch_and_reserves_nothing(logged_in, project):
    images = photos(project, 3)
    credits.record(project.workspace_id, LedgerKind.ADJUST, -48, reason="test")  # 2 left
    db.session.commit()
    html = quote_of(logged_in, project, images).get_data(as_text=True)
    assert "disabled" in html and "You have 2 credits: 1 more needed" in html
    response = apply(logged_in, project, images)
    assert response.status_code == 402
    assert "Not enough credits: 3 photos need 3 and you have 2, 1 short" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(Generation.id))) == 0
    assert db.session.scalar(sa.select(sa.func.count(Batch.id))) == 0
    assert credits.balance(project.workspace_id) == 2


def test_unavailable_preset_is_not_clickable_and_refused_in_plain_words(logged_in, project):
    images = photos(project, 1)
    bar = logged_in.get(f"/projects/{project.id}/studio").get_data(as_text=True)
    staging = bar.split('value="staging"')[0].rsplit("<label", 1)[1] + bar.split('value="staging"')[1].split("</label>")[0]
    assert "disabled" in staging and "Needs an AI service" in staging and "virtual-staging-" not in staging.split(">", 1)[1]
    assert "Needs an AI service — ask your administrator to connect one." in bar
    response = apply(logged_in, project, images, choice="preset:declutter")
    text = response.get_data(as_text=True)
    assert response.status_code == 400 and "Needs an AI service — ask your administrator to connect one" in text
    assert "declutter" not in text and "FAL_KEY" not in text
    assert db.session.scalar(sa.select(sa.func.count(Generation.id))) == 0


def test_a_changed_price_is_refused_rather_than_charged(logged_in, project):
    images = photos(project, 2)
    response = apply(logged_in, project, images, expected_credits=1)
    assert response.status_code == 409 and "The price changed to 2 credits" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(Generation.id))) == 0


def test_photo_of_another_workspace_is_not_found(logged_in, project):
    other = factories.make_project(factories.make_user(), name="Elsewhere")
    mine, theirs = photos(project, 1)[0], photos(other, 1)[0]
    assert apply(logged_in, project, [mine, theirs]).status_code == 404
    assert quote_of(logged_in, project, [theirs]).status_code == 404
    assert apply(logged_in, other, [theirs]).status_code == 404
    assert db.session.scalar(sa.select(sa.func.count(Generation.id))) == 0


def test_nothing_selected_is_refused_with_what_to_do(logged_in, project):
    response = apply(logged_in, project, [])
    assert response.status_code == 400 and "Select the photos to change first" in response.get_data(as_text=True)


def test_prompt_the_engine_can_do_runs_and_one_it_cannot_says_why(logged_in, project):
    images = photos(project, 2)
    html = quote_of(logged_in, project, images, choice="prompt", prompt="make it brighter").get_data(as_text=True)
    assert button_of(html) == "Apply 2 photos · 2 credits"
    html = quote_of(logged_in, project, images, choice="prompt", prompt="add a red sofa").get_data(as_text=True)
    assert "“add a red sofa” needs an AI service. Without an AI service Stagecraft can only" in html
    assert "disabled" in html


def test_staging_uses_each_photos_room_in_its_prompt(app, logged_in, project, fal_queue):
    from app.providers import registry

    app.config.update(FAL_KEY="test-fal-key", FAL_QUEUE_URL=fal_queue.url)
    registry.configure(app)
    bedroom, office = photos(project, 2)
    bedroom.room_type, office.room_type = "bedroom", "home office"
    db.session.commit()
    html = quote_of(logged_in, project, [bedroom, office], choice="staging", style="modern").get_data(as_text=True)
    assert button_of(html).startswith("Stage 2 photos · ")
    response = apply(logged_in, project, [bedroom, office], choice="staging", style="modern")
    assert response.status_code == 200, response.get_data(as_text=True)
    prompts = {g.source_image_id: g.prompt for g in db.session.scalars(sa.select(Generation))}
    assert "empty bedroom" in prompts[bedroom.id] and "empty office" in prompts[office.id]
    assert all(g.preset == "virtual-staging-modern" for g in db.session.scalars(sa.select(Generation)))


def test_saved_preset_is_offered_to_the_workspace_and_can_be_deleted(logged_in, project, user):
    response = logged_in.post(f"/projects/{project.id}/studio/presets", data={"name": "Bright and airy", "prompt": "brighten"},
                              headers={"HX-Request": "true"})
    assert response.status_code == 200 and "Bright and airy" in response.get_data(as_text=True)
    saved = db.session.scalar(sa.select(SavedPreset))
    assert saved.workspace_id == project.workspace_id and saved.created_by_id == user.id
    second = factories.make_project(user, name="Second listing")
    bar = logged_in.get(f"/projects/{second.id}/studio").get_data(as_text=True)
    assert f'value="saved:{saved.id}"' in bar
    images = photos(project, 2)
    html = quote_of(logged_in, project, images, choice=f"saved:{saved.id}").get_data(as_text=True)
    assert button_of(html) == "Apply 2 photos · 2 credits"
    deleted = logged_in.post(f"/projects/{project.id}/studio/presets/{saved.id}/delete", headers={"HX-Request": "true"})
    assert deleted.status_code == 200 and "Bright and airy" not in deleted.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(SavedPreset.id))) == 0


@pytest.mark.parametrize("fields, status, words", [
    ({"name": "", "prompt": "brighten"}, 400, "Give the preset a name"),
    ({"name": "x" * 81, "prompt": "brighten"}, 400, "under 80 characters"),
    ({"name": "Empty", "prompt": "  "}, 400, "Write the instructions to save first"),
    ({"name": "Long", "prompt": "b" * 4001}, 400, "under 4000 characters"),
    ({"name": "Bright", "prompt": "brighten"}, 409, "already has a preset called “Bright”"),
])
def test_saved_preset_limits(logged_in, project, fields, status, words):
    db.session.add(SavedPreset(workspace_id=project.workspace_id, name="Bright", prompt="brighten"))
    db.session.commit()
    response = logged_in.post(f"/projects/{project.id}/studio/presets", data=fields, headers={"HX-Request": "true"})
    assert response.status_code == status and words in response.get_data(as_text=True)
    assert response.headers["HX-Retarget"] == "#apply-message"


def test_saved_preset_of_another_workspace_is_not_found(logged_in, project):
    other = factories.make_project(factories.make_user(), name="Elsewhere")
    theirs = SavedPreset(workspace_id=other.workspace_id, name="Theirs", prompt="brighten")
    db.session.add(theirs)
    db.session.commit()
    images = photos(project, 1)
    assert apply(logged_in, project, images, choice=f"saved:{theirs.id}").status_code == 404
    assert logged_in.post(f"/projects/{project.id}/studio/presets/{theirs.id}/delete").status_code == 404
    assert db.session.get(SavedPreset, theirs.id) is not None
