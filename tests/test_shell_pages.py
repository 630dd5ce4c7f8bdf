"""The shell of the agent's studio: home page, dashboard, top bar, Developers area and the generations list's words."""
import re

import sqlalchemy as sa
from sqlalchemy import event

from app.extensions import db
from app.generations import lifecycle
from app.generations.service import create_generation
from app.generations.spec import GenerationSpec
from app.images.service import listing_photos
from app.projects.models import Project
from app.projects.service import workspaces_for
from tests.factories import make_image, make_project, make_user


def test_visitors_see_what_stagecraft_does_with_before_and_after_examples(client):
    page = client.get("/").get_data(as_text=True)
    assert "photo studio for real-estate agents" in page
    assert 'href="/signup"' in page and 'href="/login"' in page
    sliders = re.findall(r'slot="second" src="([^"]+)"', page)
    assert len(sliders) == 3
    after = client.get(sliders[0].replace("&amp;", "&"))
    assert after.status_code == 200 and after.mimetype == "image/jpeg"
    before = re.search(r'slot="first" src="([^"]+)"', page).group(1)
    assert client.get(before.replace("&amp;", "&")).status_code == 200


def test_logged_in_visitors_at_home_go_to_their_listings(logged_in):
    response = logged_in.get("/")
    assert response.status_code == 302 and response.headers["Location"].endswith("/projects")


def test_dashboard_cards_show_cover_photos_and_jobs_running_and_credits(logged_in, project, user):
    first, second = make_image(project, "living_01.jpg"), make_image(project, "kitchen_02.jpg")
    second.position, first.position = 0, 1  # the agent moved the kitchen first
    create_generation(project, GenerationSpec(preset="enhance", references=[first.id]))
    empty = make_project(user, name="9 Elm Road")
    make_project(user, name="Website widget", kind="api")
    db.session.commit()
    assert listing_photos(project)[0].id == second.id
    page = logged_in.get("/projects").get_data(as_text=True)
    card = page.split(f'id="listing-{project.id}"')[1].split("</article>")[0]
    assert "2 photos" in card and "1 job running" in card
    assert second.thumbnail_key in card and first.thumbnail_key not in card
    empty_card = page.split(f'id="listing-{empty.id}"')[1].split("</article>")[0]
    assert "0 photos" in empty_card and "No photos yet" in empty_card and "running" not in empty_card
    assert "Website widget" not in page  # API projects live under Developers
    balance = workspaces_for(user)[0].credit_balance
    assert f"<strong>{balance}</strong> credits left" in page


def test_dashboard_cards_refresh_themselves_only_while_jobs_run(logged_in, project):
    def cards() -> str:
        page = logged_in.get("/projects", headers={"HX-Request": "true"}).get_data(as_text=True)
        return page.split('id="listing-cards"')[1].split(">")[0]

    assert "hx-trigger" not in cards()
    generation = create_generation(project, GenerationSpec(preset="enhance", references=[make_image(project).id]))
    db.session.commit()
    assert 'hx-trigger="every 10s"' in cards() and 'hx-select="#listing-cards"' in cards()
    lifecycle.fail_generation(generation, "test", "The photo could not be read.")
    db.session.commit()
    assert "hx-trigger" not in cards()  # the answer that shows no jobs running stops the refreshing


def test_dashboard_needs_the_same_number_of_queries_for_one_listing_or_many(app, logged_in, user, project):
    make_image(project)

    def queries_for_dashboard() -> int:
        statements = []
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            assert logged_in.get("/projects").status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return len(statements)

    one = queries_for_dashboard()
    for number in range(5):
        make_image(make_project(user, name=f"{number} Many Street"))
    assert queries_for_dashboard() == one


def test_create_a_listing_with_address_and_rooms(logged_in):
    page = logged_in.get("/projects").get_data(as_text=True)
    assert 'name="kind"' not in page and "API project" not in page
    response = logged_in.post("/projects", data={"name": "12 Oak Lane", "address": "12 Oak Lane, Springfield",
                                                 "room_count": "4"})
    assert response.status_code == 302
    project = db.session.scalar(sa.select(Project).where(Project.name == "12 Oak Lane"))
    assert (project.kind, project.address, project.room_count) == ("listing", "12 Oak Lane, Springfield", 4)
    card = logged_in.get("/projects").get_data(as_text=True)
    assert "12 Oak Lane, Springfield" in card and "4 rooms" in card


def test_a_listing_with_wrong_rooms_or_a_long_name_is_refused_with_a_message_and_the_form_kept(logged_in):
    response = logged_in.post("/projects", data={"name": "12 Oak Lane", "address": "Springfield", "room_count": "lots"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "number of rooms must be a whole number from 1 to 99" in page
    assert 'value="Springfield"' in page
    long_name = logged_in.post("/projects", data={"name": "x" * 121})
    assert long_name.status_code == 400 and "Keep the name under 120" in long_name.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(Project.id))) == 0


def test_top_bar_shows_the_balance_live_and_an_account_menu_with_log_out(logged_in, user):
    page = logged_in.get("/projects").get_data(as_text=True)
    balance = re.search(r'<span id="balance"[^>]*>', page).group(0)
    assert 'hx-get="/account/balance"' in balance
    assert 'hx-trigger="balance-changed from:body, every 20s"' in balance
    menu = page.split('class="dropdown account-menu"')[1].split("</details>")[0]
    for words in ("Settings", "Developers", "Log out"):
        assert words in menu
    assert "Admin" not in menu
    fragment = logged_in.get("/account/balance", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert fragment.strip().startswith('<span id="balance"') and "<html" not in fragment
    summary = logged_in.get("/account/balance?part=summary", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert summary.strip().startswith('<p id="credits-summary"')
    assert logged_in.get("/account/balance?part=everything").status_code == 400


def test_a_low_balance_is_marked_in_the_top_bar(app, logged_in, user):
    workspace = workspaces_for(user)[0]
    from app.credits import service as credits

    credits.adjust(workspace.id, -(workspace.credit_balance - 3), user, "spent")
    db.session.commit()
    fragment = logged_in.get("/account/balance", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert 'class="balance low"' in fragment and "Low:" in fragment and "<strong>3</strong> credits" in fragment


def test_admins_find_the_admin_console_in_the_account_menu(client):
    admin = make_user("boss@example.com", role="admin")
    client.post("/login", data={"email": admin.email, "password": "correct horse battery"})
    menu = client.get("/projects").get_data(as_text=True).split('class="dropdown account-menu"')[1]
    assert 'href="/admin/"' in menu.split("</details>")[0]


def test_developers_area_lists_api_projects_with_their_tools(logged_in, user):
    response = logged_in.post("/developers/projects", data={"name": "Our website"})
    assert response.status_code == 302
    api_project = db.session.scalar(sa.select(Project).where(Project.name == "Our website"))
    assert api_project.kind == "api"
    make_project(make_user(), name="Stranger API", kind="api")
    page = logged_in.get("/developers").get_data(as_text=True)
    card = page.split(f'id="project-{api_project.id}"')[1].split("</article>")[0]
    for path in ("keys", "generations", "flows", "live", "callbacks"):
        assert f'href="/projects/{api_project.id}/{path}"' in card
    assert "Stranger API" not in page


def test_an_api_project_without_a_name_is_refused_with_a_message(logged_in):
    response = logged_in.post("/developers/projects", data={"name": " "})
    assert response.status_code == 400
    assert "Give the project a name" in response.get_data(as_text=True)


def test_the_generations_filter_uses_the_badges_words(logged_in, project):
    image = make_image(project)
    done = create_generation(project, GenerationSpec(preset="enhance", references=[image.id]))
    create_generation(project, GenerationSpec(preset="straighten", references=[image.id]))
    from app.generations.models import GenerationStatus

    done.status = GenerationStatus.SUCCEEDED
    db.session.commit()
    page = logged_in.get(f"/projects/{project.id}/generations").get_data(as_text=True)
    assert re.search(r'<option value="done"\s*>Done</option>', page)
    assert "success" not in page and "succeeded</span>" not in page
    assert ">Done</span>" in page and ">Waiting</span>" in page
    assert "Straighten verticals" in page and ">straighten<" not in page  # preset names, not ids
    only_done = logged_in.get(f"/projects/{project.id}/generations?status=done").get_data(as_text=True)
    assert ">Done</span>" in only_done and ">Waiting</span>" not in only_done
    wrong = logged_in.get(f"/projects/{project.id}/generations?status=success")
    assert wrong.status_code == 400 and "Show one of: Waiting, Working, Done" in wrong.get_data(as_text=True)


def test_another_workspaces_generations_list_is_404(logged_in):
    stranger = make_project(make_user(), name="Not yours")
    assert logged_in.get(f"/projects/{stranger.id}/generations?status=done").status_code == 404


def test_presets_needing_an_ai_service_say_they_are_not_available(client):
    page = client.get("/presets").get_data(as_text=True)
    assert re.search(r'<article id="preset-virtual-staging-scandinavian" class="preset-card unavailable">', page)
    section = page.split('id="preset-virtual-staging-scandinavian"')[1].split("</article>")[0]
    assert "Not available yet" in section and "administrator can connect" in section
    assert "_KEY" not in page  # no env-var names
