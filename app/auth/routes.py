"""Sign-up, login, logout and a project's API keys."""
from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from app.auth import backoff, logins, service, sessions
from app.errors import ApiError
from app.extensions import db, limiter
from app.projects.service import get_project_for_user

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    """Only same-site relative paths, so the login page cannot be used as an open redirect."""
    target = target or ""
    # Browsers drop tabs and newlines inside a URL and read a backslash as a slash ("/\t/evil.example"
    # becomes "//evil.example"), so any control character, space or backslash refuses the target.
    clean = target.isprintable() and " " not in target and "\\" not in target
    parts = urlsplit(target) if clean else None
    if parts and not parts.scheme and not parts.netloc and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("projects.index")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("20 per minute", methods=["POST"])
def login():
    if request.method == "POST":
        email = request.form.get("email", "")
        try:
            backoff.check_allowed(email)
        except ApiError as error:
            return render_template("auth/login.html", error=error.message, email=email), error.status, error.headers
        user = service.authenticate(email, request.form.get("password", ""))
        if user is None:
            backoff.record_failure(email)
            return render_template("auth/login.html", error="Wrong email or password.", email=email), 400
        backoff.record_success(email)
        sessions.log_in(user, remember=bool(request.form.get("remember")))
        db.session.commit()
        return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/login.html")


@bp.route("/signup", methods=["GET", "POST"])
@limiter.limit("10 per minute", methods=["POST"])
def signup():
    if request.method == "POST":
        email = request.form.get("email", "")
        try:
            user = service.create_user(email, request.form.get("password", ""))
        except ApiError as error:
            return render_template("auth/signup.html", error=error.message, email=email), error.status
        sessions.log_in(user, remember=False)
        db.session.commit()
        flash("Welcome to Stagecraft. Create your first listing to upload photos.")
        return redirect(url_for("projects.index"))
    return render_template("auth/signup.html")


@bp.post("/logout")
def logout():
    """End this browser's login for real (a copied session or remember cookie stops working), then the home page."""
    sessions.log_out()
    db.session.commit()
    return redirect(url_for("projects.home"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
@limiter.limit("10 per minute", methods=["POST"])
def change_password():
    """Change one's password; every other browser signed in as this person is logged out."""
    if request.method == "GET":
        return render_template("auth/password.html")
    try:
        service.change_password(current_user, request.form.get("current_password", ""), request.form.get("new_password", ""))
    except ApiError as error:
        return render_template("auth/password.html", error=error.message), error.status
    user = current_user._get_current_object()
    logins.end_all_logins(user)
    sessions.log_in(user, remember=False)
    db.session.commit()
    flash("Your password is changed. Every other browser signed in as you has been logged out.")
    return redirect(url_for("projects.index"))


@bp.post("/account/logout-everywhere")
@login_required
def logout_everywhere():
    """End every login of this person, this browser's too."""
    logins.end_all_logins(current_user._get_current_object())
    sessions.log_out()
    db.session.commit()
    flash("You are logged out on every browser.")
    return redirect(url_for("auth.login"))


@bp.get("/projects/<id:project_id>/keys")
@login_required
def api_keys(project_id: int):
    project = get_project_for_user(current_user, project_id)
    return render_template("auth/api_keys.html", project=project, keys=service.project_api_keys(project))


@bp.post("/projects/<id:project_id>/keys")
@login_required
def create_api_key(project_id: int):
    project = get_project_for_user(current_user, project_id)
    try:
        key, plaintext = service.create_api_key(
            project,
            request.form.get("name", ""),
            created_by=current_user,
            expires_in_days=request.form.get("expires_in_days", type=int),
            rate_limit=request.form.get("rate_limit", type=int),
        )
    except ApiError as error:
        keys = service.project_api_keys(project)
        return render_template("auth/api_keys.html", project=project, keys=keys, error=error.message), error.status
    db.session.commit()
    return render_template(
        "auth/api_keys.html", project=project, keys=service.project_api_keys(project), new_key=plaintext, new_key_row=key
    )


@bp.post("/projects/<id:project_id>/keys/<id:key_id>/revoke")
@login_required
def revoke_api_key(project_id: int, key_id: int):
    project = get_project_for_user(current_user, project_id)
    service.revoke_api_key(project, key_id)
    db.session.commit()
    flash("The key was revoked; requests using it are refused from now on.")
    return redirect(url_for("auth.api_keys", project_id=project.id))
