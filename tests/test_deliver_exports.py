"""The listing's zip: asked for on the page, built by the real worker, named by order and room, labelled honestly."""
import csv
import io
import re
import zipfile

import pytest
from PIL import Image as PILImage
from PIL import ImageChops

from app.analysis import service as analysis
from app.analysis.writing import ListingContext
from app.exports.models import Export
from app.extensions import db
from app.generations.service import create_generation
from app.generations.spec import GenerationSpec
from app.images.storage import storage
from app.providers import registry
from app.versions.service import final_version
from tests import factories
from tests.upstreams.fal import EDIT_MODEL

HTMX = {"HX-Request": "true"}


def listing(project, *rooms):
    """Photos uploaded in this order, each with its room set."""
    photos = []
    for name, room in rooms:
        photo = factories.make_image(project, name)
        photo.room_type = room
        photos.append(photo)
    db.session.commit()
    return photos


def start(client, project, **form):
    return client.post(f"/projects/{project.id}/exports", data=form, headers=HTMX)


def finished_zip(client, answer, worker) -> zipfile.ZipFile:
    """Run the export's job, follow its status fragment to the download link and open the zip."""
    assert answer.status_code == 200, answer.get_data(as_text=True)
    export_id = re.search(r"/exports/([0-9a-f-]{36})", answer.get_data(as_text=True)).group(1)
    worker()
    status = client.get(f"/exports/{export_id}", headers=HTMX).get_data(as_text=True)
    link = re.search(r'class="download-zip" href="([^"]+)"', status)
    assert link, status
    url = link.group(1).replace("&amp;", "&")
    download = client.get(url)
    assert download.status_code == 200
    assert "12-oak-lane-photos.zip" in download.headers["Content-Disposition"]
    return zipfile.ZipFile(io.BytesIO(download.data))


def test_the_whole_listing_zips_finals_and_originals_by_order_and_room(logged_in, project, worker):
    kitchen, bedroom, _ = listing(project, ("kitchen_02.jpg", "kitchen"), ("bedroom_01.jpg", "bedroom"),
                                  ("living_01.jpg", None))
    create_generation(project, GenerationSpec(preset="enhance", references=[kitchen.id]))
    db.session.commit()
    worker()

    answer = start(logged_in, project, scope="all")
    assert "Making your zip: 0 of 3 photos" in answer.get_data(as_text=True)
    assert 'hx-trigger="every 1s"' in answer.get_data(as_text=True)
    archive = finished_zip(logged_in, answer, worker)
    assert sorted(archive.namelist()) == [
        "finals/01-kitchen.jpg", "finals/02-bedroom.jpg", "finals/03-living-01.jpg",
        "originals/01-kitchen.jpg", "originals/02-bedroom.jpg", "originals/03-living-01.jpg",
    ]
    assert archive.read("finals/01-kitchen.jpg") == storage().get(final_version(kitchen).storage_key)
    assert final_version(kitchen).id != kitchen.id
    assert archive.read("originals/01-kitchen.jpg") == storage().get(kitchen.storage_key)
    assert archive.read("finals/02-bedroom.jpg") == storage().get(bedroom.storage_key)  # no result: the original
    export = db.session.scalars(db.select(Export)).one()
    assert (export.status, export.progress_done, export.progress_total) == ("succeeded", 3, 3)


def test_a_selection_keeps_the_listing_numbers(logged_in, project, worker):
    _, bedroom, living = listing(project, ("kitchen_02.jpg", "kitchen"), ("bedroom_01.jpg", "bedroom"),
                                 ("living_01.jpg", "living room"))
    answer = start(logged_in, project, scope="selected", image_ids=[living.id, bedroom.id])
    archive = finished_zip(logged_in, answer, worker)
    assert sorted(archive.namelist()) == [
        "finals/02-bedroom.jpg", "finals/03-living-room.jpg", "originals/02-bedroom.jpg", "originals/03-living-room.jpg",
    ]
    assert "captions.csv" not in archive.namelist()  # no photo was described


@pytest.fixture
def fal(app, fal_queue):
    app.config.update(FAL_KEY=fal_queue.key, FAL_QUEUE_URL=fal_queue.url, PROVIDER_POLL_INTERVAL=0.01,
                      PROVIDER_POLL_MAX=0.05, OUTBOUND_ALLOWLIST=("127.0.0.1",))
    registry.configure(app)
    return fal_queue


def _bottom_right_changed(labelled: bytes, stored: bytes) -> bool:
    a, b = (PILImage.open(io.BytesIO(data)).convert("RGB") for data in (labelled, stored))
    box = (a.width * 3 // 4, a.height * 7 // 8, a.width, a.height)
    darker = ImageChops.subtract(b.crop(box), a.crop(box)).getextrema()
    return max(high for _, high in darker) > 60


def test_staged_finals_carry_the_label_once_and_others_none(logged_in, project, worker, fal):
    living, dining, kitchen = listing(project, ("empty_living_01.jpg", "living room"), ("dining_01.jpg", "dining room"),
                                      ("kitchen_02.jpg", "kitchen"))
    staging = dict(preset="virtual-staging-scandinavian", model=EDIT_MODEL)
    create_generation(project, GenerationSpec(references=[living.id], watermark=False, **staging))  # label turned off
    create_generation(project, GenerationSpec(references=[dining.id], **staging))  # labelled when made
    create_generation(project, GenerationSpec(preset="enhance", references=[kitchen.id]))
    db.session.commit()
    worker()

    archive = finished_zip(logged_in, start(logged_in, project, scope="all"), worker)
    stored = {photo.id: storage().get(final_version(photo).storage_key) for photo in (living, dining, kitchen)}
    assert _bottom_right_changed(archive.read("finals/01-living-room.jpg"), stored[living.id])
    assert archive.read("finals/02-dining-room.jpg") == stored[dining.id]  # already carries it: not labelled twice
    assert archive.read("finals/03-kitchen.jpg") == stored[kitchen.id]


def test_captions_csv_holds_the_analyzers_words_when_photos_were_described(logged_in, project, worker):
    kitchen, bedroom = listing(project, ("kitchen_02.jpg", "kitchen"), ("bedroom_01.jpg", "bedroom"))
    session = analysis.create_session(project, ListingContext(address="12 Oak Lane"))
    described = analysis.add_project_image(project, session, kitchen.id)
    analysis.start_run(session, [described], None)
    db.session.commit()
    worker()

    archive = finished_zip(logged_in, start(logged_in, project, scope="all"), worker)
    rows = list(csv.DictReader(io.StringIO(archive.read("captions.csv").decode())))
    assert [row["file"] for row in rows] == ["finals/01-kitchen.jpg"]
    assert rows[0]["title"] and rows[0]["caption"] and rows[0]["original_file"] == "kitchen_02.jpg"


def test_bad_requests_say_what_to_do(logged_in, project, worker):
    empty_listing = start(logged_in, project, scope="all")
    assert empty_listing.status_code == 400 and "upload some first" in empty_listing.get_data(as_text=True)
    (photo,) = listing(project, ("kitchen_02.jpg", "kitchen"))
    nothing = start(logged_in, project, scope="selected")
    assert nothing.status_code == 400 and "Select photos first" in nothing.get_data(as_text=True)
    plain = logged_in.post(f"/projects/{project.id}/exports", data={"scope": "selected"})
    assert plain.status_code == 400 and "Select photos first" in plain.get_data(as_text=True)
    unknown = start(logged_in, project, scope="selected", image_ids=[photo.id, "nope"])
    assert unknown.status_code == 404 and "reload the page" in unknown.get_data(as_text=True)
    wrong_scope = start(logged_in, project, scope="everything")
    assert wrong_scope.status_code == 400 and "Download all" in wrong_scope.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(Export.id))) == 0


def test_another_workspaces_listing_and_exports_are_not_found(logged_in, project, worker):
    stranger = factories.make_project(factories.make_user(), name="Secret Manor")
    (photo,) = listing(stranger, ("kitchen_02.jpg", "kitchen"))
    assert start(logged_in, stranger, scope="all").status_code == 404
    (mine,) = listing(project, ("kitchen_02.jpg", "kitchen"))
    across = start(logged_in, project, scope="selected", image_ids=[mine.id, photo.id])
    assert across.status_code == 404
    from app.exports.service import start_export

    theirs = start_export(stranger, None)
    db.session.commit()
    assert logged_in.get(f"/exports/{theirs.id}", headers=HTMX).status_code == 404
    worker()


def test_a_failed_export_says_why(logged_in, project, worker):
    (photo,) = listing(project, ("kitchen_02.jpg", "kitchen"))
    answer = start(logged_in, project, scope="all")
    storage().delete(photo.storage_key)
    worker()
    export = db.session.scalars(db.select(Export)).one()
    db.session.refresh(export)
    assert export.status == "failed"
    status = logged_in.get(f"/exports/{export.id}", headers=HTMX).get_data(as_text=True)
    assert "could not be read" in status and "Try again" in status and answer.status_code == 200


def test_the_sweeper_fails_lost_exports_and_removes_old_zips(logged_in, project, worker, app):
    from datetime import timedelta

    from jobs.exports import sweep_exports

    listing(project, ("kitchen_02.jpg", "kitchen"))
    done = db.session.get(Export, re.search(r"/exports/([0-9a-f-]{36})", start(logged_in, project, scope="all")
                                            .get_data(as_text=True)).group(1))
    worker()
    db.session.refresh(done)
    lost = db.session.get(Export, re.search(r"/exports/([0-9a-f-]{36})", start(logged_in, project, scope="all")
                                            .get_data(as_text=True)).group(1))
    key = done.storage_key
    assert storage().exists(key)
    lost.created_at -= timedelta(seconds=app.config["JOB_TIMEOUT"] + app.config["ABANDON_GRACE"] + 1)
    db.session.commit()
    assert sweep_exports() == {"failed": 1, "deleted": 0}
    assert "Start the download again" in logged_in.get(f"/exports/{lost.id}", headers=HTMX).get_data(as_text=True)
    done.created_at -= timedelta(seconds=app.config["EXPORT_TTL"] + 1)
    db.session.commit()
    assert sweep_exports()["deleted"] == 1
    assert not storage().exists(key)
    assert logged_in.get(f"/exports/{done.id}", headers=HTMX).status_code == 404
    worker()  # the lost one's job runs late and finds nothing to do
