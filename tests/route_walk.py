"""Every route of the app driven with a plausible request on the caller's own rows.

The authorization matrix (tests/test_authorization_matrix.py) lists one line per route with its
placeholders; here they are filled with workspace A's own rows, so most requests succeed and do
their real work. Reads go first and deletions last, so each line still finds the rows it names.
"""
import io

from flask import g

from app.analysis import service as analysis
from app.analysis.writing import ListingContext
from app.auth import service as auth_service
from app.compat.process_image import service as process_image
from app.exports.service import start_export
from app.extensions import db
from app.flows import service as flows
from app.generations import lifecycle
from app.generations.service import create_generation
from app.generations.spec import GenerationSpec
from app.images.aliases import set_project_alias
from app.projects.service import workspaces_for
from app.studio import saved as studio_saved
from app.webhooks import service as webhooks
from tests import factories
from tests.test_authorization_matrix import ADMIN, API, OPEN, ROUTES, Route, fill, key_headers, send

__all__ = ["ADMIN", "API", "OPEN", "ROUTES", "Route", "own_rows", "walk_order", "request_line"]

DESTRUCTIVE_WORDS = ("create_api_project", "delete", "revoke", "logout", "deactivate", "rename", "rotate")


def own_rows(app, user, project) -> dict:
    """A's rows of every kind the matrix names, by placeholder (A's own project doubles as {own_project})."""
    image = factories.make_image(project)
    set_project_alias(project, image, "@front")
    flow = flows.create_flow(project, aliases={"@flow-front": image.id})
    generation = create_generation(project, GenerationSpec(preset="enhance", references=[image.id]))
    key, _ = auth_service.create_api_key(project, "second key")
    record = process_image.prepare(project, "Scandinavian staging", image_id=image.id)
    app.config["OUTBOUND_ALLOWLIST"] = ("127.0.0.1",)
    delivery = webhooks.send_test_event(project, "http://127.0.0.1:9/hook")
    session = analysis.create_session(project, ListingContext(address="12 Oak Lane"))
    described = analysis.add_project_image(project, session, image.id)
    saved = studio_saved.save_preset(project.workspace_id, user, "Warm staging", "brighten the room")
    export = start_export(project, None)
    db.session.commit()
    return {
        "project": project.id, "image": image.id, "alias": "@front", "flow": flow.id, "flow_alias": "@flow-front",
        "generation": generation.id, "key": key.id, "user": factories.make_user().id,
        "workspace": workspaces_for(user)[0].id, "file": image.storage_key, "email": user.email,
        "record": record.id, "delivery": delivery.id, "session": session.id, "analysis": described.id,
        "saved": saved.id, "export": export.id, "own_project": project.id, "own_flow": flow.id,
    }


def add_finished_work(project, image_id: str, run_jobs) -> None:
    """Work in every end state the pages show: a finished and a canceled edit, described photos, a built zip."""
    finished = process_image.prepare(project, "enhance", image_id=image_id)
    process_image.process(finished)
    canceled = process_image.prepare(project, "brighten", image_id=image_id)
    canceled_generation = process_image.process(canceled)
    session = analysis.create_session(project, ListingContext(address="12 Oak Lane"))
    analysis.start_run(session, [analysis.add_project_image(project, session, image_id)], None)
    db.session.commit()
    lifecycle.request_cancel(canceled_generation)
    db.session.commit()
    run_jobs()


def walk_order(routes: list[Route]) -> list[Route]:
    """Reads first, then writes, then the lines that delete, revoke or log out what later lines use."""

    def rank(route: Route) -> int:
        if route.method == "GET":
            return 0
        destructive = route.method == "DELETE" or any(word in route.endpoint for word in DESTRUCTIVE_WORDS)
        return 2 if destructive else 1

    return sorted(routes, key=rank)


def request_line(route: Route, values: dict, page_client, admin_client, api_key: str, headers=None):
    """Send one line as its surface's caller does: a page as A, an admin line as an admin, an API line with A's key."""
    path, body = fill(route, values)
    # Requests share the test's app context: each starts, as in production, with its own session and caller.
    db.session.remove()
    g.pop("_login_user", None)
    client = admin_client if route.surface == ADMIN else page_client
    sent_headers = {**(key_headers(path, api_key) if route.surface == API else {}), **(headers or {})}
    if route.endpoint == "analysis_api.upload":
        data = {"file": (io.BytesIO(factories.photo_bytes("kitchen_02.jpg")), "k.jpg")}
        return client.open(path, method=route.method, data=data, headers=sent_headers)
    return send(client, route, path, body, sent_headers)
