"""Account settings: credits and ledger in plain words, the label text and the AI service tried first."""
import re

import pytest

from app.credits import service as credits
from app.extensions import db
from app.generations.service import create_generation
from app.generations.spec import GenerationSpec
from app.imaging.overlay import DEFAULT_LABEL
from app.projects.service import workspaces_for
from app.providers import registry
from tests.factories import make_image, make_project, make_user

FAL_EDIT = "fal-ai/nano-banana-pro/edit"


@pytest.fixture
def fal_connected(app, fal_queue):
    app.config.update(FAL_KEY=fal_queue.key, FAL_QUEUE_URL=fal_queue.url)
    registry.configure(app)
    return fal_queue


def test_settings_show_credits_and_the_ledger_in_plain_words(logged_in, user):
    stranger = make_user()
    credits.adjust(workspaces_for(stranger)[0].id, 7, None, "Secret bonus")
    db.session.commit()
    page = logged_in.get("/account").get_data(as_text=True)
    balance = workspaces_for(user)[0].credit_balance
    assert f"<strong>{balance}</strong> credits left" in page
    assert "Credits added" in page and "Free credits for a new workspace" in page
    assert "Secret bonus" not in page
    assert 'href="/developers"' in page


def test_the_ledger_is_paginated_newest_first(logged_in, user):
    workspace = workspaces_for(user)[0]
    for number in range(30):
        credits.adjust(workspace.id, 1, user, f"Top-up number {number}")
    db.session.commit()
    first = logged_in.get("/account").get_data(as_text=True)
    assert "Top-up number 29" in first and "Top-up number 4 " not in first and "Top-up number 4<" not in first
    assert "1–25 of 31" in first and "offset=25" in first
    second = logged_in.get("/account?offset=25").get_data(as_text=True)
    assert "Top-up number 0" in second and "Top-up number 29" not in second
    wrong = logged_in.get("/account?offset=soon")
    assert wrong.status_code == 400 and "offset must be a whole number" in wrong.get_data(as_text=True)


def test_a_job_in_the_ledger_reads_as_held_then_given_back(logged_in, project, user):
    generation = create_generation(project, GenerationSpec(preset="enhance", references=[make_image(project).id]))
    credits.refund(project.workspace_id, generation.id, generation.cost, "The photo could not be read.")
    db.session.commit()
    page = logged_in.get("/account").get_data(as_text=True)
    assert "Held for a photo job" in page and "Credits given back" in page
    assert "The photo could not be read." in page and f'href="/generations/{generation.id}"' in page


def test_save_the_label_text_and_the_service_tried_first(logged_in, user, fal_connected):
    page = logged_in.get("/account").get_data(as_text=True)
    assert "fal.ai" in page and "Google Gemini" not in page  # only connected services are offered
    response = logged_in.post("/account", data={"watermark_text": "  Staged by  Oak Realty ",
                                                "service": f"fal:{FAL_EDIT}"})
    assert response.status_code == 302
    workspace = workspaces_for(user)[0]
    db.session.refresh(workspace)
    assert (workspace.watermark_text, workspace.default_provider, workspace.default_model) == (
        "Staged by Oak Realty", "fal", FAL_EDIT)
    page = logged_in.get("/account").get_data(as_text=True)
    assert re.search(rf'<option value="fal:{re.escape(FAL_EDIT)}" selected>', page)
    logged_in.post("/account", data={"watermark_text": "", "service": ""})
    db.session.refresh(workspace)
    assert (workspace.watermark_text, workspace.default_provider, workspace.default_model) == (None, None, None)


@pytest.mark.parametrize("form, message", [
    ({"watermark_text": "x" * 61, "service": ""}, "Keep the label under 60 characters"),
    ({"watermark_text": "", "service": "gemini"}, "That AI service is not connected"),
    ({"watermark_text": "", "service": "fal:no-such-model"}, "That AI service is not connected"),
])
def test_wrong_settings_are_refused_with_a_message_and_nothing_saved(logged_in, user, form, message):
    response = logged_in.post("/account", data=form)
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    workspace = workspaces_for(user)[0]
    db.session.refresh(workspace)
    assert workspace.watermark_text is None and workspace.default_provider is None


def test_the_workspace_label_is_drawn_where_the_standard_label_was(project, fal_connected):
    image = make_image(project)
    standard = create_generation(project, GenerationSpec(preset="virtual-staging-scandinavian", references=[image.id]))
    assert standard.watermark == DEFAULT_LABEL
    project.workspace.watermark_text = "Staged by Oak Realty"
    staged = create_generation(project, GenerationSpec(preset="virtual-staging-scandinavian", references=[image.id]))
    asked = create_generation(project, GenerationSpec(preset="enhance", references=[image.id], watermark=True))
    own = create_generation(project, GenerationSpec(preset="enhance", references=[image.id], watermark="Mine"))
    plain = create_generation(project, GenerationSpec(preset="enhance", references=[image.id]))
    db.session.commit()
    assert (staged.watermark, asked.watermark, own.watermark, plain.watermark) == (
        "Staged by Oak Realty", "Staged by Oak Realty", "Mine", None)


def test_a_listing_uses_the_workspace_service_when_the_project_has_none(project, fal_connected):
    image = make_image(project)
    spec = GenerationSpec(preset="hdr-interior", references=[image.id])  # the built-in engine can do it too
    assert create_generation(project, spec).provider == "local"
    project.workspace.default_provider, project.workspace.default_model = "fal", FAL_EDIT
    chosen = create_generation(project, spec)
    assert (chosen.provider, chosen.model) == ("fal", FAL_EDIT)
    project.default_provider = "local"  # the project's own choice wins
    assert create_generation(project, spec).provider == "local"
    db.session.commit()


def test_a_workspace_service_that_is_no_longer_connected_is_passed_over(project):
    project.workspace.default_provider, project.workspace.default_model = "fal", FAL_EDIT
    generation = create_generation(project, GenerationSpec(preset="enhance", references=[make_image(project).id]))
    db.session.commit()
    assert generation.provider == "local"


def test_settings_of_another_workspace_are_never_shown_or_changed(logged_in, user):
    stranger = make_user()
    other = workspaces_for(stranger)[0]
    make_project(stranger, name="Secret Manor 99")
    logged_in.post("/account", data={"watermark_text": "Mine", "service": ""})
    db.session.refresh(other)
    assert other.watermark_text is None
    assert "Secret Manor 99" not in logged_in.get("/developers").get_data(as_text=True)


def test_a_workspace_model_unable_to_do_a_job_gives_way_to_another_model_of_that_service(project, fal_connected):
    project.workspace.default_provider, project.workspace.default_model = "fal", "fal-ai/nano-banana-pro"  # text only
    generation = create_generation(project, GenerationSpec(preset="hdr-interior", references=[make_image(project).id]))
    db.session.commit()
    assert (generation.provider, generation.model) == ("fal", FAL_EDIT)


def test_pages_offer_the_workspace_label_where_they_offered_the_standard_one(app, user):
    from flask import render_template_string
    from flask_login import login_user

    with app.test_request_context("/"):
        login_user(user)
        assert render_template_string("{{ watermark_label }}") == DEFAULT_LABEL
        workspaces_for(user)[0].watermark_text = "Staged by Oak Realty"
        assert render_template_string("{{ watermark_label }}") == "Staged by Oak Realty"
    db.session.rollback()
