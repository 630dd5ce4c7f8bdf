"""A live Stagecraft (gunicorn + a real RQ worker, or all of `flask up`) and Debian's Chromium driven by Playwright."""
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.processes import ROOT, process_env, start_worker, stop_tree

ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]


# Thumbnails load lazily as they scroll into view; a full-page screenshot wants them all.
EAGER_IMAGES = """() => Promise.all(Array.from(document.images).map((img) => {
  img.loading = "eager";
  return img.complete ? null : new Promise((done) => { img.onload = img.onerror = done; });
}))"""


def log_in(page, live_server: str, user) -> None:
    """Log in through the form as a factory user, landing on the listings."""
    from tests.factories import PASSWORD

    page.goto(f"{live_server}/login")
    page.fill("input[name=email]", user.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/projects")


def fits_width(page) -> bool:
    """Nothing on the page is wider than the window (no sideways scrolling)."""
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def live_server(app, config):
    """gunicorn with gevent workers and one RQ worker, as `make run` starts them, on a free port."""
    port = free_port()
    env = process_env(config)
    web = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--worker-class", "gevent", "--workers", "1",
         "--bind", f"127.0.0.1:{port}", "--no-control-socket", "--access-logfile", "-", "wsgi:app"],
        cwd=ROOT, env=env,
    )
    worker = start_worker(config)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(url, web)
        yield url
    finally:
        for process in (web, worker):
            stop_tree(process)


@pytest.fixture
def product(tmp_path):
    """A fresh Stagecraft run by `flask up`, as `make run` runs it (embedded Redis, gunicorn, workers, cron)."""
    port = free_port()
    env = {key: value for key, value in os.environ.items() if key not in {"DATABASE_URL", "REDIS_URL", "STORAGE_DIR"}}
    env.update({
        "STAGECRAFT_VAR_DIR": str(tmp_path / "var"), "DATABASE_URL": f"sqlite:///{tmp_path / 'stagecraft.db'}",
        "HOST": "127.0.0.1", "PORT": str(port), "MCP_PORT": "0",
    })
    with open(tmp_path / "up.log", "wb") as log:
        up = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", "up"], cwd=ROOT, env=env, start_new_session=True,
            stdout=log, stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            wait_until_healthy(url, up)
            yield url
        finally:
            stop_tree(up, timeout=30)


def wait_until_healthy(url: str, web: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            if requests.get(f"{url}/healthz", timeout=5).status_code == 200:
                return
        except requests.RequestException:
            pass
        assert web.poll() is None and time.monotonic() < deadline, "the web server did not start"
        time.sleep(0.2)


@pytest.fixture
def page():
    """A Chromium page; Playwright never downloads a browser of its own here."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium package")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        context = browser.new_context(accept_downloads=True, viewport={"width": 1280, "height": 900})
        yield context.new_page()
        browser.close()
