"""Templates do no I/O: every page and fragment renders from what its view passed in, without a SQL statement.

A lazy load in a template is a query per row per render, invisible in the view (the prepared-styles
fragment, polled every 3 s, ran 5+n of them). The test renders every page and fragment the app has
(each route of tests/route_walk.py, GETs as a page and as htmx, other methods as htmx) and records each
statement issued between flask's before_render_template and template_rendered signals.
"""
from contextlib import contextmanager

import sqlalchemy as sa
from flask import before_render_template, template_rendered

from app.extensions import db
from tests.route_walk import API, ROUTES, add_finished_work, own_rows, request_line, walk_order

HTMX = {"HX-Request": "true"}


@contextmanager
def statements_inside_templates(app):
    """A list collecting (template name, SQL) for each statement issued while a template renders, and the names rendered."""
    rendering, found, rendered = [], [], set()

    def started(_sender, template, **_):
        rendering.append(template.name)
        rendered.add(template.name)

    def finished(_sender, template, **_):
        rendering.pop()

    def executed(_connection, _cursor, statement, *_):
        if rendering:
            found.append((rendering[-1], " ".join(statement.split())[:200]))

    before_render_template.connect(started, app)
    template_rendered.connect(finished, app)
    sa.event.listen(db.engine, "before_cursor_execute", executed)
    try:
        yield found, rendered
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", executed)
        template_rendered.disconnect(finished, app)
        before_render_template.disconnect(started, app)


def test_no_page_or_fragment_queries_the_database_while_it_renders(
        app, logged_in, admin_client, user, project, api_client, worker, ai_model_connected):
    app.config["PROCESS_IMAGE_WAIT"] = 0  # (fal's stand-in is connected: a prepared style runs on the AI model)
    values = own_rows(app, user, project)
    add_finished_work(project, values["image"], worker)
    queried, rendered = {}, set()
    for route in walk_order([route for route in ROUTES if route.surface != API]):
        for headers in ([{}, HTMX] if route.method == "GET" else [HTMX]):
            with statements_inside_templates(app) as (found, names):
                response = request_line(route, values, logged_in, admin_client, api_client.key, headers)
                if not response.is_streamed:
                    response.get_data()
                response.close()
            rendered.update(names)
            for template, statement in found:
                queried.setdefault(f"{template} ({route.method} {route.path}{' htmx' if headers else ''})", statement)
    assert not queried, "templates that queried the database while rendering:\n" + "\n".join(
        f"{where}: {statement}" for where, statement in queried.items()
    )
    assert len(rendered) > 40, f"the walk should render most templates; it rendered {sorted(rendered)}"
