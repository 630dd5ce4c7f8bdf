"""A live Stagecraft (gunicorn + a real RQ worker, or all of `flask up`) and Debian's Chromium driven by Playwright."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.processes import HANG_GUARD, ROOT, free_port, process_env, start_worker, stop_tree, wait_until_healthy

ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
# Pages wait for the work as long as it takes on this machine; only a hang fails a test.
WAIT_MS = HANG_GUARD * 1000


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


@pytest.fixture
def live_server_env() -> dict:
    """Settings added to the live server's environment; a test module overrides this (e.g. an AI service)."""
    return {}


@pytest.fixture
def live_server(app, config, live_server_env):
    """gunicorn with gevent workers and one RQ worker, as `make run` starts them, on a free port."""
    port = free_port()
    env = {**process_env(config), **live_server_env}
    web = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--worker-class", "gevent", "--workers", "1",
         "--bind", f"127.0.0.1:{port}", "--no-control-socket", "--access-logfile", "-", "wsgi:app"],
        cwd=ROOT, env=env,
    )
    worker = start_worker(config, **live_server_env)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(url, web)
        yield url
    finally:
        for process in (web, worker):
            stop_tree(process)


@pytest.fixture(scope="module")
def product(tmp_path_factory):
    """A fresh Stagecraft run by `flask up`, as `make run` runs it (embedded Redis, gunicorn, workers, cron);
    one per test module, whose tests each sign up an agent of their own."""
    tmp_path = tmp_path_factory.mktemp("product")
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
            wait_until_healthy(url, up, log=tmp_path / "up.log")
            yield url
        finally:
            stop_tree(up, timeout=30)


@pytest.fixture
def chromium():
    """Debian's Chromium through Playwright, which never downloads a browser of its own here."""
    from playwright.sync_api import expect, sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium package")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    expect.set_options(timeout=WAIT_MS)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


def new_page(browser, width: int = 1280, height: int = 900):
    """A page in a fresh context that accepts downloads and waits as long as the work takes."""
    context = browser.new_context(accept_downloads=True, viewport={"width": width, "height": height})
    context.set_default_timeout(WAIT_MS)
    return context.new_page()


@pytest.fixture
def page(chromium):
    return new_page(chromium)
