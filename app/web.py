"""Wiring of blueprints, the login manager and template helpers."""
import sqlalchemy as sa
from flask import current_app, has_request_context, redirect, request, url_for
from flask_login import current_user
from htmx_flask import make_response
from werkzeug.routing import IntegerConverter

from app import assets
from app.account.service import balance_of, label_of
from app.auth import sessions
from app.catalog import limits
from app.catalog.presets import PRESETS
from app.catalog.words import status_word
from app.errors import error_response, is_api_request
from app.extensions import db, login_manager
from app.formkeys import new_form_key
from app.images.storage import file_url
from app.imaging.geometry import RESOLUTIONS
from app.imaging.overlay import DEFAULT_LABEL


class IdConverter(IntegerConverter):
    """Row ids in URLs: digits up to the database's integer range, so a huge number is a 404."""

    def __init__(self, url_map, *args, **kwargs):
        super().__init__(url_map, max=2**31 - 1)


def register_blueprints(app) -> None:
    """Register every feature's blueprint and the helpers templates use."""
    app.url_map.converters["id"] = IdConverter
    from app.account.routes import bp as account_bp
    from app.admin.routes import bp as admin_bp
    from app.analysis.api import bp as analysis_api_bp
    from app.analysis.routes import bp as analysis_bp
    from app.api.images import bp as images_api_bp
    from app.api.upstream_callbacks import bp as upstreams_bp
    from app.apidocs.routes import bp as apidocs_bp
    from app.auth.routes import bp as auth_bp
    from app.compat.fal.routes import bp as fal_bp
    from app.compat.nanobanana.routes import bp as nanobanana_bp
    from app.compat.process_image.routes import bp as process_image_bp
    from app.exports.routes import bp as exports_bp
    from app.health.routes import bp as health_bp
    from app.live.routes import bp as live_bp
    from app.pages.flows import bp as flows_bp
    from app.pages.generations import bp as generations_bp
    from app.pages.listings import bp as projects_bp
    from app.pages.photos import bp as images_bp
    from app.pages.studio import bp as studio_bp
    from app.pages.versions import bp as versions_bp
    from app.webhooks.routes import bp as webhooks_bp

    blueprints = (
        auth_bp, projects_bp, images_bp, images_api_bp, generations_bp, flows_bp, live_bp, health_bp, admin_bp,
        apidocs_bp, upstreams_bp, fal_bp, nanobanana_bp, webhooks_bp, process_image_bp, analysis_bp, analysis_api_bp, account_bp,
        studio_bp, versions_bp, exports_bp,
    )
    for blueprint in blueprints:
        app.register_blueprint(blueprint)
    app.add_template_global(file_url)
    app.add_template_global(new_form_key, "form_key")
    app.add_template_filter(status_word)
    app.context_processor(top_bar)
    app.context_processor(load_caller)
    app.add_url_rule("/favicon.ico", "favicon", favicon)
    assets.register(app)
    # The forms offer and state the same choices and limits the checks enforce.
    app.jinja_env.globals.update(
        aspect_ratios=limits.ASPECT_RATIOS, resolutions=tuple(RESOLUTIONS), output_formats=limits.OUTPUT_FORMATS,
        api_statuses=limits.API_STATUSES, max_prompt_length=limits.MAX_PROMPT_LENGTH, watermark_label=DEFAULT_LABEL,
        preset_names={preset.id: preset.name for preset in PRESETS.values()},
    )


def top_bar() -> dict:
    """The top bar's balance and the workspace's label text, read here so the layout does no I/O;
    fragments (htmx, streams) skip it and keep the standard label."""
    if not has_request_context() or request.htmx or request.accept_mimetypes.best == "text/event-stream":
        return {}
    if not current_user.is_authenticated:
        return {}
    top = balance_of(current_user)
    return {"top_balance": top, "watermark_label": label_of(top[0])} if top else {"top_balance": None}


def load_caller() -> dict:
    """The logged-in person's row, read here when the view's commit expired it, so the layout reads no row itself.

    Streams render fragments long after the request's session let go of the row; fragments don't show the person.
    """
    if not has_request_context() or request.accept_mimetypes.best == "text/event-stream":
        return {}
    if current_user.is_authenticated:
        caller = current_user._get_current_object()
        if sa.inspect(caller).expired_attributes:
            db.session.refresh(caller)
    return {}


def favicon():
    """Browsers ask for /favicon.ico whatever the page links."""
    return current_app.send_static_file("favicon.ico")


@login_manager.user_loader
def load_user(user_id: str):
    """Only while the browser's login exists server-side (app/auth/sessions.py)."""
    return sessions.load_user(user_id)


@login_manager.unauthorized_handler
def unauthorized():
    """Pages redirect to the login page; htmx gets 401 with HX-Redirect; APIs get JSON 401."""
    login_url = url_for("auth.login", next=request.full_path if request.method == "GET" else None)
    if is_api_request():
        return error_response("Log in or send an API key.", 401, "unauthorized")
    if request.htmx:
        return make_response("", 401, redirect=login_url)
    return redirect(login_url)
