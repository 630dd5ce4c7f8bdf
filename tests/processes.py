"""Starting the product's own processes (web server, workers) for tests that need them live."""
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil
import requests

from app.config import load_config
from app.supervisor import gunicorn_command

ROOT = Path(__file__).resolve().parents[1]
# Only a guard against a hung start: startup takes as long as the machine needs (30 s+ under a loaded
# CI run), so waiting ends on /healthz answering or the process dying, never on a speed budget.
HANG_GUARD = 300


def process_env(config: dict) -> dict:
    """Environment that points a child process at the test's database, Redis and storage."""
    return {
        **os.environ,
        "DATABASE_URL": config["SQLALCHEMY_DATABASE_URI"],
        "REDIS_URL": config["REDIS_URL"],
        "STORAGE_DIR": config["STORAGE_DIR"],
        "STAGECRAFT_VAR_DIR": config["VAR_DIR"],
        "SECRET_KEY": config["SECRET_KEY"],
        "LOG_FORMAT": "text",
    }


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(condition, message: str = "condition", poll: float = 0.05):
    """condition()'s first truthy answer, polled until it comes; fails only past HANG_GUARD."""
    guard = time.monotonic() + HANG_GUARD
    while not (result := condition()):
        assert time.monotonic() < guard, f"waited {HANG_GUARD} s for {message}"
        time.sleep(poll)
    return result


def wait_until_healthy(base_url: str, process: subprocess.Popen, workers: int = 0, verify=True, log: Path | None = None) -> None:
    """Until /healthz answers 200 (counting at least `workers` RQ workers); fail at once if the process exits."""
    guard = time.monotonic() + HANG_GUARD
    while True:
        try:
            health = requests.get(f"{base_url}/healthz", timeout=5, verify=verify)
            if health.status_code == 200 and health.json().get("workers", 0) >= workers:
                return
        except (requests.RequestException, ValueError):
            pass
        if process.poll() is not None or time.monotonic() > guard:
            state = f"exited with {process.returncode}" if process.poll() is not None else f"hung for {HANG_GUARD} s"
            tail = log.read_text(errors="replace")[-3000:] if log and log.exists() else ""
            raise AssertionError(f"{base_url} never became healthy: the process {state}\n{tail}")
        time.sleep(0.2)


def start_web(config: dict, port: int, log_file=None, **extra_env) -> subprocess.Popen:
    """gunicorn exactly as `flask up` starts it (gevent workers), on 127.0.0.1:port; its output to log_file if given."""
    env = {**process_env(config), **{key: str(value) for key, value in extra_env.items()}}
    command = gunicorn_command({**load_config(env), "HOST": "127.0.0.1", "PORT": port})
    return subprocess.Popen(
        command, cwd=ROOT, env=env, start_new_session=True,
        stdout=log_file, stderr=subprocess.STDOUT if log_file else None,
    )


def start_worker(config: dict, log_file=None, **extra_env) -> subprocess.Popen:
    """A real forking RQ worker (`python -m jobs.worker`), as `make run` starts it; its output to log_file if given."""
    return _start_module("jobs.worker", config, extra_env, log_file)


def start_gate_worker(config: dict, log_file=None, **extra_env) -> subprocess.Popen:
    """The same worker with the test-only gate provider registered (`python -m tests.gate_worker`)."""
    return _start_module("tests.gate_worker", config, extra_env, log_file)


def _start_module(module: str, config: dict, extra_env: dict, log_file=None) -> subprocess.Popen:
    env = {**process_env(config), **{key: str(value) for key, value in extra_env.items()}}
    return subprocess.Popen(
        [sys.executable, "-m", module], cwd=ROOT, env=env, start_new_session=True,
        stdout=log_file, stderr=subprocess.STDOUT if log_file else None,
    )


def stop_tree(process: subprocess.Popen, timeout: float = 15) -> None:
    """Stop a process and everything it forked (an RQ worker forks a scheduler and work horses)."""
    try:
        children = psutil.Process(process.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        children = []
    process.terminate()
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    for child in children:
        try:
            child.kill()
        except psutil.NoSuchProcess:
            pass
