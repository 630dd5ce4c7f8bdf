"""A photo's versions: which one is final, keeping one, undoing, trying again, and the photo page around them."""
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.errors import ApiError
from app.extensions import db
from app.generations.models import Generation, GenerationStatus
from app.generations.service import create_generation
from app.generations.spec import GenerationSpec
from app.images.service import delete_image
from app.versions import service as versions
from tests import factories


def enhance(project, photo, worker, **spec) -> Generation:
    """Run the built-in Enhance (or another local preset) on a photo with the real worker."""
    generation = create_generation(project, GenerationSpec(preset=spec.pop("preset", "enhance"), references=[photo.id], **spec))
    db.session.commit()
    worker()
    db.session.expire_all()
    generation = db.session.get(Generation, generation.id)
    assert generation.status is GenerationStatus.SUCCEEDED, generation.error_message
    return generation


def older(generation: Generation, minutes: int) -> None:
    """Move a result back in time (stored timestamps, not sleeps, order the versions)."""
    for output in generation.outputs:
        output.created_at -= timedelta(minutes=minutes)
    db.session.commit()


def test_final_is_the_original_then_the_newest_result_then_the_kept_one(project, worker):
    photo = factories.make_image(project, "kitchen_02.jpg")
    assert versions.final_version(photo).id == photo.id
    first = enhance(project, photo, worker)
    older(first, 10)
    second = enhance(project, photo, worker, preset="brighten-dark-room")
    assert versions.final_version(photo).id == second.outputs[0].id

    versions.keep_version(photo, first.outputs[0].id)
    db.session.commit()
    assert versions.final_version(photo).id == first.outputs[0].id
    versions.keep_version(photo, photo.id)  # "Back to the original"
    db.session.commit()
    assert versions.final_version(photo).id == photo.id

    versions.keep_version(photo, first.outputs[0].id)
    delete_image(first.outputs[0])  # a kept result deleted since: the newest live result again
    db.session.commit()
    assert versions.final_version(photo).id == second.outputs[0].id


def test_history_is_newest_first_and_says_what_made_each_version_in_plain_words(project, worker):
    photo = factories.make_image(project, "dark_living_01.jpg")
    first = enhance(project, photo, worker)
    older(first, 5)
    enhance(project, photo, worker, preset="brighten-dark-room")
    history = versions.history(photo)
    assert [version.made_by for version in history] == ["Brighten dark room", "Enhance", "Original upload"]
    older(enhance(project, photo, worker), -5)  # a second try of Enhance, the newest
    assert [version.made_by for version in versions.history(photo)][:3] == [
        "Enhance · try 2", "Brighten dark room", "Enhance"]
    assert history[-1].is_original and history[-1].image.id == photo.id
    assert versions.made_by(Generation(prompt="make the walls a warm white " * 5)).startswith("“make the walls")
    assert versions.made_by(Generation(prompt="make the walls a warm white " * 5)).endswith("…”")


def test_a_version_must_belong_to_the_photo(project, user, worker):
    photo, other_photo = factories.make_image(project, "kitchen_02.jpg"), factories.make_image(project, "bedroom_01.jpg")
    result = enhance(project, other_photo, worker).outputs[0]
    with pytest.raises(ApiError) as refused:
        versions.keep_version(photo, result.id)
    assert refused.value.status == 404 and "not one of this photo's" in refused.value.message
    with pytest.raises(ApiError) as empty:
        versions.keep_version(photo, " ")
    assert empty.value.status == 400
    with pytest.raises(ApiError) as generated:
        versions.keep_version(result, result.id)
    assert generated.value.status == 400 and "uploaded photo" in generated.value.message
    elsewhere = factories.make_image(factories.make_project(factories.make_user()), "kitchen_02.jpg")
    with pytest.raises(ApiError):
        versions.keep_version(photo, elsewhere.id)


def test_final_versions_never_mix_workspaces(project, worker):
    stranger_project = factories.make_project(factories.make_user(), name="Elsewhere")
    photo = factories.make_image(project, "kitchen_02.jpg")
    stranger = factories.make_image(stranger_project, "kitchen_02.jpg")
    foreign = enhance(stranger_project, stranger, worker).outputs[0]
    photo.kept_image_id = foreign.id  # a row pointing across workspaces is never followed
    db.session.commit()
    assert versions.final_versions([photo, stranger]) == {photo.id: photo, stranger.id: foreign}


def test_file_stems_use_listing_order_and_room(project):
    kitchen = factories.make_image(project, "kitchen_02.jpg")
    living = factories.make_image(project, "living_01.jpg")
    kitchen.room_type = "kitchen"
    living.room_type, living.title = None, "Sunny lounge!"  # no room: the agent's name for it is used
    db.session.commit()
    assert versions.download_stem(kitchen) == "01-kitchen"
    assert versions.download_stem(living) == "02-sunny-lounge"


def test_keep_and_undo_on_the_photo_page(logged_in, project, worker):
    photo = factories.make_image(project, "kitchen_02.jpg")
    generation = enhance(project, photo, worker)
    result = generation.outputs[0]
    live = logged_in.get(f"/generations/{generation.id}", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "Final version" in live and "Keep this one" not in live  # the live card knows the final too
    page = logged_in.get(f"/images/{photo.id}").get_data(as_text=True)
    assert "img-comparison-slider" in page and "Keep this one" not in page.split('id="versions"')[0].split(
        'id="generations"')[0]
    assert "Back to the original" in page and "Final version" in page

    kept = logged_in.post(f"/images/{photo.id}/keep", data={"version": photo.id})
    assert kept.status_code == 302 and f"undo={result.id}" in kept.location
    page = logged_in.get(kept.location).get_data(as_text=True)
    assert "Back to the original: it is the version you download now." in page
    assert "Undo: use “Enhance” again" in page and "Kept by you" in page and "Keep this one" in page
    db.session.expire_all()
    assert db.session.get(type(photo), photo.id).kept_image_id == photo.id

    undone = logged_in.post(f"/images/{photo.id}/keep", data={"version": result.id})
    assert undone.status_code == 302
    db.session.expire_all()
    assert versions.final_version(db.session.get(type(photo), photo.id)).id == result.id


def test_keep_refuses_wrong_versions_with_a_message(logged_in, project, worker):
    photo, other_photo = factories.make_image(project, "kitchen_02.jpg"), factories.make_image(project, "bedroom_01.jpg")
    result = enhance(project, other_photo, worker).outputs[0]
    wrong = logged_in.post(f"/images/{photo.id}/keep", data={"version": result.id})
    assert wrong.status_code == 404 and "not one of this photo" in wrong.get_data(as_text=True)
    missing = logged_in.post(f"/images/{photo.id}/keep", data={})
    assert missing.status_code == 400 and "Choose the version to keep" in missing.get_data(as_text=True)
    on_a_result = logged_in.post(f"/images/{result.id}/keep", data={"version": result.id})
    assert on_a_result.status_code == 400


def test_try_again_runs_the_same_preset_on_the_same_photo_and_refreshes_the_balance(logged_in, project, worker):
    photo = factories.make_image(project, "kitchen_02.jpg")
    first = enhance(project, photo, worker)
    answer = logged_in.post(f"/generations/{first.id}/again", headers={"HX-Request": "true"})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.headers["HX-Trigger"] == "balance-changed"
    again = db.session.scalars(sa.select(Generation).where(Generation.retry_of_id == first.id)).one()
    assert (again.preset, again.source_image_id) == ("enhance", photo.id)
    assert f'id="generation-{again.id}"' in answer.get_data(as_text=True)
    running = logged_in.post(f"/generations/{again.id}/again", headers={"HX-Request": "true"})
    assert running.status_code == 409 and "still running" in running.get_data(as_text=True)
    worker()
    page = logged_in.get(f"/images/{photo.id}").get_data(as_text=True)
    assert page.count("Try again · ") == 2
    plain = logged_in.post(f"/generations/{first.id}/again")
    assert plain.status_code == 302 and plain.location.endswith(f"/images/{photo.id}")
    worker()


def test_photo_page_folds_developer_details_and_names_downloads_by_order_and_room(logged_in, project, worker):
    factories.make_image(project, "bedroom_01.jpg")
    photo = factories.make_image(project, "kitchen_02.jpg")
    photo.room_type = "kitchen"
    db.session.commit()
    enhance(project, photo, worker)
    page = logged_in.get(f"/images/{photo.id}").get_data(as_text=True)
    developer = re.search(r'<details class="developer-details">(.*?)</details>', page, re.S)
    assert developer and "<summary>Details for developers</summary>" in developer.group(1)
    assert "SHA-256" in developer.group(1) and "Alias" in developer.group(1)
    assert "SHA-256" not in page.replace(developer.group(0), "")
    assert "download=02-kitchen.jpg" in page and "download=02-kitchen-original.jpg" in page
    assert "stagecraft-" not in page and ">Done<" in page
