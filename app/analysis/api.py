"""The analyze API: sessions, uploads, a live SSE analysis run, one-photo analysis, results."""
import json

from flask import Blueprint, Response, current_app, g, jsonify, request, stream_with_context

from app.analysis import events, service, stream
from app.analysis.serializers import analysis_json, session_json, upload_json
from app.analysis.writing import parse_context
from app.auth.api import api_key_required, json_body
from app.credits.service import InsufficientCredits
from app.errors import ApiError
from app.extensions import csrf, db
from app.sse import SSE_HEADERS

bp = Blueprint("analysis_api", __name__)
csrf.exempt(bp)

SINGLE_WAIT_SECONDS = 120


@bp.errorhandler(InsufficientCredits)
def short_of_credits(error: InsufficientCredits):
    """402 with the numbers: what the request needs and what the workspace has."""
    body = {"success": False, "error": {"message": error.message, "code": error.code},
            "needed": error.needed, "available": error.available}
    return jsonify(body), 402


@bp.post("/v1/sessions")
@api_key_required
def create_session():
    """Open a session; a multipart request may upload its first photos at once."""
    body = json_body() if request.is_json and request.get_data() else None  # a JSON body must be an object
    context = parse_context(body.get("context") if body is not None else _form_context())
    session = service.create_session(g.project, context)
    uploads = _store_uploads(session) if request.files else []
    db.session.commit()
    answer = session_json(session)
    answer["images"] = [upload_json(analysis) for analysis in uploads]
    return jsonify(answer), 201


@bp.post("/v1/sessions/<session_id>/uploads")
@api_key_required
def upload(session_id: str):
    """Upload photos (multipart, field `files`, `file` or `image`); each answer is {id, uploadPath, originalFilename}."""
    session = service.get_session(g.project, session_id)
    if not request.files:
        raise ApiError("Send the photos as multipart/form-data in a field named files.")
    uploads = _store_uploads(session)
    db.session.commit()
    return jsonify(sessionId=session.id, images=[upload_json(analysis) for analysis in uploads]), 201


@bp.post("/v1/sessions/<session_id>/images")
@api_key_required
def add_images(session_id: str):
    """Add photos already in the project, by id: {"imageIds": [...]}."""
    session = service.get_session(g.project, session_id)
    image_ids = json_body().get("imageIds")
    if not isinstance(image_ids, list) or not image_ids or len(image_ids) > service.MAX_PHOTOS_PER_SESSION:
        raise ApiError(f"imageIds must be a list of 1 to {service.MAX_PHOTOS_PER_SESSION} image ids of this project.")
    added = [service.add_project_image(g.project, session, str(image_id)) for image_id in image_ids]
    db.session.commit()
    return jsonify(sessionId=session.id, images=[upload_json(analysis) for analysis in added]), 201


@bp.get("/v1/sessions/<session_id>")
@api_key_required
def detail(session_id: str):
    return jsonify(session_json(service.get_session(g.project, session_id)))


@bp.post("/v1/sessions/<session_id>/analyze")
@api_key_required
def analyze(session_id: str):
    """Start a run and stream its events; with Last-Event-ID, resume the current run's stream instead."""
    session = service.get_session(g.project, session_id)
    resume_from = events.valid_event_id(request.headers.get("Last-Event-ID"))
    if resume_from and session.run:
        return _stream(session.id, session.run, resume_from)
    body = json_body()
    _check_required(body, session.id, "images")
    analyses = service.requested_analyses(session, body.get("images"))
    if not analyses:
        raise ApiError("This session has no photos yet; upload some first.")
    context = parse_context(body["context"]) if "context" in body else None
    run = service.start_run(session, analyses, context)
    cursor = session.run_cursor
    db.session.commit()
    return _stream(session.id, run, cursor)


@bp.get("/v1/sessions/<session_id>/events")
@api_key_required
def follow(session_id: str):
    """Reconnect to the current run's stream (Last-Event-ID header, or ?lastEventId=); from its start otherwise."""
    session = service.get_session(g.project, session_id)
    if not session.run:
        raise ApiError("Nothing has been analysed in this session yet.", status=409, code="not_started")
    after = events.valid_event_id(request.headers.get("Last-Event-ID") or request.args.get("lastEventId"))
    return _stream(session.id, session.run, after or session.run_cursor)


@bp.post("/v1/sessions/<session_id>/analyze-single")
@api_key_required
def analyze_single(session_id: str):
    """Describe one photo and answer with its metadata as JSON."""
    session = service.get_session(g.project, session_id)
    body = json_body()
    _check_required(body, session.id, "image")
    image = body["image"]
    if not isinstance(image, dict):
        raise ApiError("image must be an object {id, uploadPath, originalFilename} from your upload.")
    _check_photo_reference(image, "image")
    (analysis,) = service.requested_analyses(session, [image])
    context = parse_context(body["context"]) if "context" in body else None
    run = service.start_run(session, [analysis], context)
    cursor, analysis_id = session.run_cursor, analysis.id
    db.session.commit()
    outcome = stream.wait_for_result(session.id, run, cursor, analysis_id, SINGLE_WAIT_SECONDS)
    if outcome is None:
        raise ApiError("The photo is still being described; fetch the session's results in a moment.",
                       status=504, code="timeout")
    name, data = outcome
    if name == "error":
        raise ApiError(f"{data['error']} The credit was refunded.", status=422, code="analysis_failed")
    db.session.expire_all()
    return jsonify(analysis_json(service.get_analysis(session, analysis_id)))


def _stream(session_id: str, run: int, after: str) -> Response:
    db.session.rollback()  # a stream can stay open for minutes: hold no transaction meanwhile
    body = stream_with_context(stream.follow(session_id, run, after))
    return Response(body, mimetype="text/event-stream", headers=SSE_HEADERS)


def _check_required(body: dict, session_id: str, photos: str) -> None:
    """The fields the spec marks required: sessionId (this session's) and the photos; 400 naming what is missing."""
    missing = [name for name in ("sessionId", photos) if body.get(name) in (None, "", [])]
    if missing:
        example = json.dumps({"sessionId": session_id, photos: "…"})
        raise ApiError(f"Missing required field{'s' if len(missing) > 1 else ''}: {', '.join(missing)}. "
                       f"Send {example} with the photos as your upload answered them.")
    if body["sessionId"] != session_id:
        raise ApiError("sessionId in the body does not match the session in the URL.")
    if photos == "images" and isinstance(body["images"], list):
        for index, image in enumerate(body["images"]):
            if isinstance(image, dict):
                _check_photo_reference(image, f"images[{index}]")


def _check_photo_reference(image: dict, name: str) -> None:
    """A photo is named as its upload answered it: id and uploadPath are both required."""
    missing = [field for field in ("id", "uploadPath") if not image.get(field)]
    if missing:
        raise ApiError(f"{name} is missing {' and '.join(missing)}: send the photo as its upload answered it "
                       "({id, uploadPath, originalFilename}).")


def _form_context():
    return {name: request.form[name] for name in ("address", "city", "bedrooms", "styleKeywords", "brandVoice")
            if request.form.get(name)}


def _store_uploads(session) -> list:
    files = request.files.getlist("files") or request.files.getlist("file") or request.files.getlist("image")
    limit = current_app.config.get("MAX_FILES_PER_UPLOAD", 20)
    if not files:
        raise ApiError("Send the photos in a multipart field named files.")
    if len(files) > limit:
        raise ApiError(f"Send at most {limit} photos per upload.")
    room = request.form.get("roomType")
    return [service.add_upload(session, upload.read(), upload.filename, room) for upload in files]
