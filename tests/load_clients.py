"""The load driver's clients: each runs in its own thread and records one Outcome per request."""
import itertools
import re
import time
from dataclasses import dataclass

import requests

from tests.factories import PASSWORD

CLIENT_TIMEOUT = 20  # seconds; no answer by then counts as unanswered
UNKNOWN_IMAGE = "img_unknown_to_this_project"
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class ApiSeat:
    """What one API client uses: a key of its project and a photo it uploaded."""

    key: str
    image_id: str


@dataclass
class PageSeat:
    """What one page client uses: a login, its project and one generation to look at."""

    email: str
    project_id: int
    generation_id: str


@dataclass
class Outcome:
    """One request: its kind, the status (None when no answer came) and how long it took."""

    kind: str
    status: int | None
    seconds: float
    retry_after: bool = False
    generation_id: str | None = None
    error: str | None = None


def api_client(base_url: str, seat: ApiSeat, keep_going, outcomes: list[Outcome]) -> None:
    """The API mix in turn: a create naming an unknown image, an enhance of the client's photo, a list."""
    session = requests.Session()
    session.headers["X-API-Key"] = seat.key
    url = f"{base_url}/api/v1/generations"
    mix = itertools.cycle([
        ("create unknown reference", "POST", {"preset": "enhance", "referenceImages": [UNKNOWN_IMAGE]}),
        ("create enhance", "POST", {"preset": "enhance", "referenceImages": [seat.image_id]}),
        ("list", "GET", None),
    ])
    while keep_going(len(outcomes)):
        kind, method, body = next(mix)
        send(session, outcomes, kind, method, url, json=body)


def page_client(base_url: str, seat: PageSeat, keep_going, outcomes: list[Outcome]) -> None:
    """A browser: log in through the form (again if that failed), then visit its pages in turn."""
    session = requests.Session()
    pages = itertools.cycle([
        ("login page", "/login"),
        ("listings page", "/projects"),
        ("project page", f"/projects/{seat.project_id}"),
        ("generation page", f"/generations/{seat.generation_id}"),
    ])
    logged_in = False
    while keep_going(len(outcomes)):
        if not logged_in:
            logged_in = log_in(session, base_url, seat, outcomes)
            continue
        kind, path = next(pages)
        send(session, outcomes, kind, "GET", base_url + path)


def log_in(session: requests.Session, base_url: str, seat: PageSeat, outcomes: list[Outcome]) -> bool:
    """GET the login form for its CSRF token and post it with the credentials; True when logged in."""
    form = send(session, outcomes, "login page", "GET", f"{base_url}/login")
    token = CSRF_FIELD.search(form.text) if form is not None else None
    if token is None:
        return False
    credentials = {"email": seat.email, "password": PASSWORD, "csrf_token": token.group(1)}
    response = send(session, outcomes, "log in", "POST", f"{base_url}/login", data=credentials)
    return response is not None and response.status_code == 302


def send(session: requests.Session, outcomes: list[Outcome], kind: str, method: str, url: str, **kwargs):
    """Time one request and record its outcome; the response, or None when none came in time."""
    start = time.perf_counter()
    try:
        response = session.request(method, url, timeout=CLIENT_TIMEOUT, allow_redirects=False, **kwargs)
    except requests.RequestException as error:
        outcomes.append(Outcome(kind, None, time.perf_counter() - start, error=type(error).__name__))
        return None
    outcome = Outcome(kind, response.status_code, time.perf_counter() - start, "Retry-After" in response.headers)
    if response.status_code == 201:
        outcome.generation_id = response.json()["data"]["id"]
    outcomes.append(outcome)
    return response
