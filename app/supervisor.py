"""`flask up`: the embedded Redis, gunicorn, the RQ workers, cron and MCP as one foreground process tree.

Any child that dies is started again after a backoff, Redis from its append-only data; only SIGTERM
or SIGINT (Ctrl-C) stops the tree.
"""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import click

from app.config import PROJECT_ROOT
from app.embedded import socket_from_url, start_redis

STOP_TIMEOUT = 15
POLL_SECONDS = 0.5
# A child that crashes at once is retried after 1, 2, 4 … seconds, at most MAX_BACKOFF; one that
# ran for STABLE_SECONDS had started fine (a start-up crash comes sooner) and was stopped from outside
# (the OOM killer, an operator), so it restarts after the first step. (At 60 s, workers killed every
# few seconds by the fault suite spent most of the run waiting out 30 s backoffs.)
FIRST_BACKOFF = 1
MAX_BACKOFF = 30
STABLE_SECONDS = 10
# Workers allocate and free many 12-megapixel buffers per job; keeping glibc from returning each
# one to the kernel (and re-faulting it in) makes the local engine ~30% faster.
WORKER_ENV = {"MALLOC_MMAP_THRESHOLD_": "268435456", "MALLOC_TRIM_THRESHOLD_": "536870912"}


def worker_command(burst: bool = False) -> list[str]:
    """An RQ worker process; it creates the app itself (`jobs/worker.py`)."""
    return [sys.executable, "-m", "jobs.worker", *(["--burst"] if burst else [])]


def gunicorn_command(config) -> list[str]:
    """gevent workers hold many open SSE streams each, at the cost of one greenlet per stream; https with TLS files."""
    tls = ["--certfile", config["TLS_CERT_FILE"], "--keyfile", config["TLS_KEY_FILE"]] if config.get("TLS_CERT_FILE") else []
    return [
        sys.executable, "-m", "gunicorn",
        "--worker-class", "gevent",
        "--workers", str(config["WEB_CONCURRENCY"]),
        "--worker-connections", "1000",
        "--bind", f"{config['HOST']}:{config['PORT']}",
        "--graceful-timeout", "10",
        "--access-logfile", "-",
        "--control-socket", str(Path(config["VAR_DIR"]) / "gunicorn.ctl"),
        *tls,
        "wsgi:app",
    ]


def mcp_command() -> list[str]:
    """The MCP server is an ASGI app, so it runs under uvicorn in a process of its own beside gunicorn."""
    return [sys.executable, "-m", "flask", "--app", "wsgi", "mcp-server"]


class Child:
    """One supervised process: how to start it, and when it may be started again after dying."""

    def __init__(self, name: str, start):
        self.name, self.start = name, start
        self.process: subprocess.Popen | None = None
        self.started_at = 0.0
        self.restart_at: float | None = None
        self.backoff = FIRST_BACKOFF

    def launch(self) -> None:
        self.restart_at = None
        try:
            self.process = self.start()
        except (OSError, RuntimeError) as error:
            click.echo(f"{self.name} could not start: {error}", err=True)
            self.process = None
            self._schedule_restart()
            return
        self.started_at = time.monotonic()

    def check(self) -> None:
        """Notice a death and schedule the restart; start again once the backoff has passed."""
        if self.restart_at is not None:
            if time.monotonic() >= self.restart_at:
                self.launch()
            return
        if self.process is None or self.process.poll() is None:
            return
        code = self.process.returncode
        _kill_group(self.process)  # what it forked (gunicorn's workers, a horse) must not outlive it
        if time.monotonic() - self.started_at >= STABLE_SECONDS:
            self.backoff = FIRST_BACKOFF
        click.echo(f"{self.name} (pid {self.process.pid}) exited with {code}; restarting in {self.backoff} s.", err=True)
        self._schedule_restart()

    def _schedule_restart(self) -> None:
        self.restart_at = time.monotonic() + self.backoff
        self.backoff = min(self.backoff * 2, MAX_BACKOFF)


def _kill_group(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def embedded_redis(config) -> Child | None:
    """The embedded Redis when REDIS_URL points at the default socket under var/; its data survives restarts."""
    socket_path = socket_from_url(config["REDIS_URL"])
    var_redis = Path(config["VAR_DIR"]) / "redis"
    if socket_path is None or socket_path.parent != var_redis:
        return None
    return Child("redis-server", lambda: start_redis(var_redis, socket_path, log_path=var_redis / "redis.log"))


def product_children(config) -> list[Child]:
    """Web, workers, cron and MCP, each started as its own session so a signal to one reaches only it."""

    def spawn(command, env=None):
        return lambda: subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, start_new_session=True)

    worker_env = {**os.environ, **WORKER_ENV}
    children = [Child("web server", spawn(gunicorn_command(config)))]
    children += [
        Child(f"worker {number}", spawn(worker_command(), worker_env))
        for number in range(1, config["WORKERS"] + 1)
    ]
    children.append(Child("cron", spawn([sys.executable, "-m", "jobs.cron"])))
    if config["MCP_PORT"]:
        children.append(Child("MCP server", spawn(mcp_command())))
    return children


def run_everything(config) -> None:
    """Start every process, print the URL, keep them running, and stop them all on SIGTERM or Ctrl-C."""
    redis_child = embedded_redis(config)
    children = ([redis_child] if redis_child else []) + product_children(config)
    for child in children:
        child.launch()
    scheme = "https" if config.get("TLS_CERT_FILE") else "http"
    click.echo(f"\nStagecraft is running at {scheme}://{config['HOST']}:{config['PORT']}/  (Ctrl-C stops it)")
    if config["MCP_PORT"]:
        click.echo(f"MCP server for AI assistants: http://{config['HOST']}:{config['MCP_PORT']}/mcp")
    click.echo("")

    stopping = False

    def request_stop(*_):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    while not stopping:
        for child in children:
            child.check()
        time.sleep(POLL_SECONDS)
    click.echo("Stopping…")
    stop_all([c.process for c in children if c.process and c is not redis_child])
    if redis_child and redis_child.process:
        stop_all([redis_child.process])  # last, so the others can finish what they write to it
    sys.exit(0)


def stop_all(processes: list[subprocess.Popen]) -> None:
    """SIGTERM, then SIGKILL whatever has not exited in time."""
    for process in processes:
        if process.poll() is None:
            process.terminate()
    deadline = time.monotonic() + STOP_TIMEOUT
    for process in processes:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
