"""Watching a batch: card states after a real worker ran it, and the listing's live stream of changed cards."""
import re

import pytest
import sqlalchemy as sa

from app.credits import service as credits
from app.credits.models import LedgerKind
from app.extensions import db
from app.generations import progress
from app.generations.models import Generation, GenerationStatus
from app.pages import studio as studio_routes
from app.studio import service as studio_service
from app.studio.models import SavedPreset
from tests import factories
from tests.processes import start_gate_worker, stop_tree


def apply(client, project, images, choice="preset:enhance", **fields):
    data = {"choice": choice, "image_ids": [image.id for image in images], **fields}
    response = client.post(f"/projects/{project.id}/studio/batches", data=data, headers={"HX-Request": "true"})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response


def card(page: str, image) -> str:
    """The state element of one photo's card."""
    return page.split(f'id="state-{image.id}"')[1].split("</article>")[0]


def test_worker_runs_a_batch_and_each_card_shows_its_result_or_why_it_failed(logged_in, project, worker):
    dark = factories.make_image(project, "dark_living_01.jpg")
    outside = factories.make_image(project, "exterior_01.jpg")
    apply(logged_in, project, [dark, outside], choice="preset:brighten-dark-room")
    page = logged_in.get(f"/projects/{project.id}").get_data(as_text=True)
    assert 'data-state="waiting"' in card(page, dark) and "Waiting" in card(page, outside)

    worker()

    page = logged_in.get(f"/projects/{project.id}").get_data(as_text=True)
    done, failed = card(page, dark), card(page, outside)
    assert 'data-state="done"' in done and 'class="card-result"' in done and ">Compare</a>" in done
    assert f'href="/images/{dark.id}"' in done
    assert 'data-state="failed"' in failed and "looks like" in failed and "The credits were refunded." in failed
    assert ">Retry</button>" in failed
    bar = logged_in.get(f"/projects/{project.id}/studio").get_data(as_text=True)
    assert "Brighten dark room: 1 of 2 done." in bar and "1 failed: see its card" in bar
    assert "data-watching" not in bar
    assert credits.balance(project.workspace_id) == 49  # the failed photo was refunded

    failed_id = db.session.scalar(sa.select(Generation.id).where(Generation.status == GenerationStatus.FAILED))
    retried = logged_in.post(f"/projects/{project.id}/studio/retry/{failed_id}", headers={"HX-Request": "true"})
    html = retried.get_data(as_text=True)
    assert retried.status_code == 200 and "balance-changed" in retried.headers["HX-Trigger"]
    assert f'id="state-{outside.id}"' in html and 'data-state="waiting"' in html
    assert "data-watching" in html and "Brighten dark room: 1 of 2 done" in html
    again = db.session.scalar(sa.select(Generation).where(Generation.retry_of_id == failed_id))
    assert again.batch_id == db.session.get(Generation, failed_id).batch_id


def events_until(chunks, stop) -> list[tuple[str, str]]:
    """(name, data) of each event read from the stream until stop(events) holds; comments come as ("", text)."""
    events = []
    for chunk in chunks:
        text = chunk.decode() if isinstance(chunk, bytes) else chunk
        for block in filter(None, text.split("\n\n")):
            if block.startswith(":"):
                events.append(("", block))
                continue
            name = re.match(r"event: (\w+)", block)[1]
            data = "\n".join(line[len("data: "):] for line in block.splitlines() if line.startswith("data: "))
            events.append((name, data))
        if stop(events):
            return events
    return events


@pytest.fixture
def gate_worker(config, gate):
    """A real forking worker that knows the gate provider."""
    process = start_gate_worker(config)
    yield process
    stop_tree(process)


def test_listing_stream_sends_each_changed_card_and_the_batch_progress_until_all_are_done(
        logged_in, project, gate, gate_worker):
    project.default_provider = "gate"
    db.session.commit()
    first, second = factories.make_image(project), factories.make_image(project, "bedroom_01.jpg")
    apply(logged_in, project, [first, second])
    response = logged_in.get(f"/projects/{project.id}/studio/events", buffered=False)
    assert response.mimetype == "text/event-stream"
    chunks = iter(response.response)

    opening = events_until(chunks, lambda events: any(name == "batch" for name, _ in events))
    cards = [data for name, data in opening if name == "card"]
    assert len(cards) == 2 and all('data-state="waiting"' in data for data in cards)
    assert "Enhance: 0 of 2 done" in opening[-1][1] and "data-watching" in opening[-1][1]

    gate.wait_until_entered()
    working = events_until(chunks, lambda events: any('data-state="working"' in data for _, data in events))
    assert any("Working 0 %" in data for _, data in working)

    gate.open(2)
    rest = events_until(chunks, lambda events: events[-1][0] == "done")
    finished = {re.search(r'id="state-([^"]+)"', data)[1]: data for name, data in opening + working + rest if name == "card"}
    assert all('data-state="done"' in finished[image.id] for image in (first, second))
    assert "Enhance: 2 of 2 done." in rest[-1][1] and "data-watching" not in rest[-1][1]
    assert list(chunks) == []  # the stream ends after "done"


def test_listing_stream_keeps_alive_when_woken_without_change(logged_in, project):
    image = factories.make_image(project)
    apply(logged_in, project, [image])  # queued; no worker runs it
    generation_id = db.session.scalar(sa.select(Generation.id))
    response = logged_in.get(f"/projects/{project.id}/studio/events", buffered=False)
    progress.publish(generation_id, project.id, status="queued")  # a wake-up with nothing new to show
    chunks = iter(response.response)
    events = events_until(chunks, lambda events: len(events) == 3)
    assert [name for name, _ in events] == ["card", "batch", ""]
    assert events[2][1] + "\n\n" == studio_routes.KEEP_ALIVE
    response.close()


def test_listing_stream_ends_at_its_time_limit_without_saying_done(logged_in, project, monkeypatch):
    monkeypatch.setattr(studio_routes, "WATCH_MAX_SECONDS", 0)
    apply(logged_in, project, [factories.make_image(project)])  # queued; no worker runs it
    response = logged_in.get(f"/projects/{project.id}/studio/events", buffered=False)
    events = events_until(iter(response.response), lambda events: False)
    assert [name for name, _ in events] == ["card", "batch"]  # the browser reconnects and reads the state again


def test_listing_stream_with_nothing_running_sends_done_at_once(logged_in, project, worker):
    image = factories.make_image(project)
    apply(logged_in, project, [image])
    worker()
    response = logged_in.get(f"/projects/{project.id}/studio/events", buffered=False)
    events = events_until(iter(response.response), lambda events: False)
    assert [name for name, _ in events] == ["card", "done"]
    assert 'data-state="done"' in events[0][1] and "Enhance: 1 of 1 done." in events[1][1]


def test_card_states_read_the_newest_work_of_every_photo_in_one_query_and_its_results_in_one_more(
        logged_in, project, worker):
    images = [factories.make_image(project) for _ in range(4)]
    apply(logged_in, project, images)
    worker()
    apply(logged_in, project, images[:2])  # newer, still waiting, on two of them
    db.session.expire_all()
    assert [image.id for image in images] and project.id  # loaded before counting
    statements = []
    record = lambda *args: statements.append(args[2])  # noqa: E731
    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        states = studio_service.card_states(project, images)
        words = {photo_id: state.word for photo_id, state in states.items()}
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)
    assert words == {images[0].id: "waiting", images[1].id: "waiting", images[2].id: "done", images[3].id: "done"}
    assert len(statements) == 2, statements


def test_instructions_behind_a_result_can_be_saved_from_its_card(logged_in, project, worker):
    image = factories.make_image(project)
    apply(logged_in, project, [image], choice="prompt", prompt="make it brighter")
    worker()
    page = logged_in.get(f"/projects/{project.id}").get_data(as_text=True)
    assert "Save these instructions" in card(page, image)
    generation_id = db.session.scalar(sa.select(Generation.id))
    saved = logged_in.post(f"/projects/{project.id}/studio/presets", headers={"HX-Request": "true"},
                           data={"name": "Brighter", "generation_id": generation_id})
    assert saved.status_code == 200 and "Saved “Brighter” for everyone in your workspace." in saved.get_data(as_text=True)
    assert "choice-changed" in saved.headers["HX-Trigger-After-Settle"]
    preset = db.session.scalar(sa.select(SavedPreset))
    assert (preset.name, preset.prompt) == ("Brighter", "make it brighter")


def test_retry_with_too_few_credits_says_so_next_to_the_bar_and_reserves_nothing(logged_in, project, worker):
    outside = factories.make_image(project, "exterior_01.jpg")
    apply(logged_in, project, [outside], choice="preset:brighten-dark-room")
    worker()
    failed_id = db.session.scalar(sa.select(Generation.id))
    credits.record(project.workspace_id, LedgerKind.ADJUST, -credits.balance(project.workspace_id), reason="test")
    db.session.commit()
    response = logged_in.post(f"/projects/{project.id}/studio/retry/{failed_id}", headers={"HX-Request": "true"})
    assert response.status_code == 402 and response.headers["HX-Retarget"] == "#apply-message"
    assert "Not enough credits" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(Generation.id))) == 1
