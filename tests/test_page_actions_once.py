"""A page action that charges runs once per rendered form: the same confirm sent again (a second click, a
resubmitted page) answers the work already started and charges nothing; a refusal moves no credit."""
import re

import sqlalchemy as sa

from app.analysis.models import AnalysisSession
from app.credits import service as credits
from app.credits.models import CreditLedger, LedgerKind
from app.extensions import db
from app.generations.lifecycle import fail_generation
from app.generations.models import Generation
from app.studio.models import Batch
from tests import factories

HTMX = {"HX-Request": "true"}


def photos(project, count=2):
    return [factories.make_image(project) for _ in range(count)]


def shown_confirm(client, project, images, **fields) -> dict:
    """The confirm's hidden fields as the price line renders them for this selection."""
    data = {"choice": "preset:enhance", "image_ids": [image.id for image in images], **fields}
    html = client.post(f"/projects/{project.id}/studio/quote", data=data, headers=HTMX).get_data(as_text=True)
    hidden = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', html))
    return {**data, **hidden}


def confirm(client, project, form):
    return client.post(f"/projects/{project.id}/studio/batches", data=form, headers=HTMX)


def reserves(workspace_id: int) -> int:
    query = sa.select(sa.func.count(CreditLedger.id)).where(CreditLedger.workspace_id == workspace_id,
                                                            CreditLedger.kind == LedgerKind.RESERVE)
    return db.session.scalar(query)


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_each_rendered_confirm_carries_its_own_key(logged_in, project):
    images = photos(project)
    first, second = shown_confirm(logged_in, project, images), shown_confirm(logged_in, project, images)
    assert first["form_key"] and second["form_key"] and first["form_key"] != second["form_key"]


def test_the_same_confirm_sent_twice_is_one_batch_and_one_charge(logged_in, project):
    images = photos(project, 2)
    form = shown_confirm(logged_in, project, images)
    before = credits.balance(project.workspace_id)
    first = confirm(logged_in, project, form)
    again = confirm(logged_in, project, form)
    assert first.status_code == again.status_code == 200, again.get_data(as_text=True)
    batch = db.session.scalar(sa.select(Batch))
    assert count(Batch) == 1 and batch.form_key == form["form_key"]
    assert count(Generation) == 2 and reserves(project.workspace_id) == 2
    assert before - credits.balance(project.workspace_id) == 2 == batch.credits
    # The repeat shows the batch already made, as the first answer did.
    started = "Started: Enhance on 2 photos · 2 credits reserved"
    assert started in first.get_data(as_text=True) and started in again.get_data(as_text=True)
    assert "data-watching" in again.get_data(as_text=True)


def test_a_new_confirm_starts_a_new_batch(logged_in, project):
    images = photos(project, 2)
    assert confirm(logged_in, project, shown_confirm(logged_in, project, images)).status_code == 200
    assert confirm(logged_in, project, shown_confirm(logged_in, project, images)).status_code == 200
    assert count(Batch) == 2 and reserves(project.workspace_id) == 4


def test_a_key_of_another_listing_is_not_honoured(logged_in, project, user):
    other = factories.make_project(user, name="Second listing")
    form = shown_confirm(logged_in, project, photos(project, 1))
    assert confirm(logged_in, project, form).status_code == 200
    theirs = photos(other, 1)
    response = confirm(logged_in, other, {**form, "image_ids": [theirs[0].id]})
    assert response.status_code == 200, response.get_data(as_text=True)
    batches = {batch.project_id: batch for batch in db.session.scalars(sa.select(Batch))}
    assert set(batches) == {project.id, other.id}
    assert [g.source_image_id for g in db.session.scalars(sa.select(Generation).where(
        Generation.batch_id == batches[other.id].id))] == [theirs[0].id]


def test_a_key_that_is_not_ours_is_refused_in_the_bar(logged_in, project):
    form = {**shown_confirm(logged_in, project, photos(project, 1)), "form_key": "k" * 65}
    response = confirm(logged_in, project, form)
    assert response.status_code == 400 and "reload the page" in response.get_data(as_text=True)
    assert response.headers["HX-Retarget"] == "#apply-message"
    assert count(Batch) == 0 and reserves(project.workspace_id) == 0


def test_a_retry_sent_twice_runs_once(logged_in, project):
    images = photos(project, 1)
    confirm(logged_in, project, shown_confirm(logged_in, project, images))
    failed = db.session.scalar(sa.select(Generation))
    fail_generation(failed, "provider_error", "The photo could not be read.")
    db.session.commit()
    page = logged_in.get(f"/projects/{project.id}").get_data(as_text=True)
    key = re.search(r"hx-vals='\{\"form_key\": \"([^\"]+)\"\}'", page)[1]
    url = f"/projects/{project.id}/studio/retry/{failed.id}"
    first = logged_in.post(url, data={"form_key": key}, headers=HTMX)
    again = logged_in.post(url, data={"form_key": key}, headers=HTMX)
    assert first.status_code == again.status_code == 200
    assert db.session.scalar(sa.select(sa.func.count(Generation.id)).where(Generation.retry_of_id == failed.id)) == 1
    assert reserves(project.workspace_id) == 2  # the batch's and the retry's
    assert logged_in.post(url, data={"form_key": "another"}, headers=HTMX).status_code == 200
    assert db.session.scalar(sa.select(sa.func.count(Generation.id)).where(Generation.retry_of_id == failed.id)) == 2


def test_describe_photos_sent_twice_opens_one_run_and_charges_once(logged_in, project):
    images = photos(project, 2)
    page = logged_in.get(f"/projects/{project.id}/describe").get_data(as_text=True)
    key = re.search(r'name="form_key" value="([^"]+)"', page)[1]
    data = {"image_ids": [image.id for image in images], "form_key": key}
    before = credits.balance(project.workspace_id)
    first = logged_in.post(f"/projects/{project.id}/describe", data=data)
    again = logged_in.post(f"/projects/{project.id}/describe", data=data)
    assert first.status_code == again.status_code == 302
    assert first.headers["Location"] == again.headers["Location"]
    assert count(AnalysisSession) == 1 and before - credits.balance(project.workspace_id) == 2


def test_instructions_the_engine_cannot_do_are_refused_in_the_bar_and_nothing_is_charged(logged_in, project):
    images = photos(project, 2)
    form = shown_confirm(logged_in, project, images, choice="prompt", prompt="add a vase of flowers")
    assert "form_key" not in form  # no confirm is offered for it
    quote = logged_in.post(f"/projects/{project.id}/studio/quote", data=form, headers=HTMX).get_data(as_text=True)
    assert "“add a vase of flowers” needs an AI service" in quote and "Ask your administrator" in quote
    response = confirm(logged_in, project, form)
    text = response.get_data(as_text=True)
    assert response.status_code == 400 and response.headers["HX-Retarget"] == "#apply-message"
    assert "“add a vase of flowers” needs an AI service" in text and "nothing charged" in text
    assert count(Batch) == 0 and count(Generation) == 0 and reserves(project.workspace_id) == 0


def test_a_preset_button_on_the_photo_page_sent_twice_runs_once_and_its_next_use_is_new(logged_in, project):
    photo = photos(project, 1)[0]
    page = logged_in.get(f"/images/{photo.id}").get_data(as_text=True)
    key = re.search(r'name="form_key" id="generate-key-enhance" value="([^"]+)"', page)[1]
    url = f"/images/{photo.id}/generations"
    first = logged_in.post(url, data={"preset": "enhance", "form_key": key}, headers=HTMX)
    again = logged_in.post(url, data={"preset": "enhance", "form_key": key}, headers=HTMX)
    assert first.status_code == again.status_code == 200, again.get_data(as_text=True)
    assert count(Generation) == 1 and reserves(project.workspace_id) == 1
    fresh = re.search(r'name="form_key" id="generate-key-enhance" value="([^"]+)" hx-swap-oob="true"',
                      first.get_data(as_text=True))[1]
    assert fresh != key
    assert logged_in.post(url, data={"preset": "enhance", "form_key": fresh}, headers=HTMX).status_code == 200
    assert count(Generation) == 2 and reserves(project.workspace_id) == 2


def test_try_again_sent_twice_starts_one_variation(logged_in, project):
    photo = photos(project, 1)[0]
    logged_in.post(f"/images/{photo.id}/generations", data={"preset": "enhance"}, headers=HTMX)
    original = db.session.scalar(sa.select(Generation))
    fail_generation(original, "provider_error", "The photo could not be read.")
    db.session.commit()
    page = logged_in.get(f"/images/{photo.id}").get_data(as_text=True)
    key = re.search(rf'name="form_key" id="again-key-{original.id}" value="([^"]+)"', page)[1]
    url = f"/generations/{original.id}/again"
    first = logged_in.post(url, data={"form_key": key}, headers=HTMX)
    again = logged_in.post(url, data={"form_key": key}, headers=HTMX)
    assert first.status_code == again.status_code == 200, again.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(Generation.id)).where(Generation.retry_of_id == original.id)) == 1
    assert reserves(project.workspace_id) == 2  # the original's and one variation
    assert f'id="again-key-{original.id}"' in first.get_data(as_text=True)
