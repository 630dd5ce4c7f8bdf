"""`flask up`: the embedded Redis, gunicorn and the RQ workers as one foreground process tree."""
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


def embedded_redis(config) -> subprocess.Popen | None:
    """Start the embedded Redis when REDIS_URL points at the default socket under var/."""
    socket_path = socket_from_url(config["REDIS_URL"])
    var_redis = Path(config["VAR_DIR"]) / "redis"
    if socket_path is None or socket_path.parent != var_redis:
        return None
    return start_redis(var_redis, socket_path, log_path=var_redis / "redis.log")


def run_everything(config) -> None:
    """Start every process, print the URL, and stop them all on Ctrl-C or when one of them dies."""
    redis_process = embedded_redis(config)
    children = [subprocess.Popen(gunicorn_command(config), cwd=PROJECT_ROOT, start_new_session=True)]
    worker_env = {**os.environ, **WORKER_ENV}
    for _ in range(config["WORKERS"]):
        children.append(
            subprocess.Popen(worker_command(), cwd=PROJECT_ROOT, env=worker_env, start_new_session=True)
        )
    children.append(subprocess.Popen([sys.executable, "-m", "jobs.cron"], cwd=PROJECT_ROOT, start_new_session=True))
    if config["MCP_PORT"]:
        children.append(subprocess.Popen(mcp_command(), cwd=PROJECT_ROOT, start_new_session=True))
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
    exit_code = 0
    while not stopping:
        dead = [c for c in children if c.poll() is not None]
        if dead:
            click.echo(f"{' '.join(dead[0].args[:3])} exited with {dead[0].returncode}; stopping.", err=True)
            exit_code = 1
            break
        time.sleep(0.5)
    click.echo("Stopping…")
    stop_all(children)
    if redis_process:
        stop_all([redis_process])
    sys.exit(exit_code)


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
