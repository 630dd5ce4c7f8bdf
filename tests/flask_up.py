"""The product exactly as `flask up` starts it (supervisor, embedded Redis, gunicorn, workers, cron), for fault tests."""
import signal
import subprocess
import sys
from contextlib import contextmanager

import psutil
import requests

from tests.processes import ROOT, free_port, process_env, stop_tree, wait_until_healthy


@contextmanager
def flask_up(config: dict, tmp_path, api_key: str, **settings):
    """Run `flask up` (embedded Redis under tmp_path, one worker unless WORKERS says) until the block ends.

    A setting may be a callable of the base URL (PUBLIC_BASE_URL needs the port chosen here)."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {
        **process_env(config),
        "REDIS_URL": f"unix://{tmp_path / 'redis' / 'redis.sock'}",
        "HOST": "127.0.0.1", "PORT": str(port), "WORKERS": "1", "WEB_CONCURRENCY": "1", "MCP_PORT": "0",
        **{name: str(value(base_url) if callable(value) else value) for name, value in settings.items()},
    }
    log_path = tmp_path / "up.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", "up"], cwd=ROOT, env=env,
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
    try:
        wait_until_healthy(base_url, process, workers=int(env["WORKERS"]), log=log_path)
        yield Product(process, base_url, log_path, api_key)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(60)
        finally:
            stop_tree(process)


class Product:
    def __init__(self, process, base_url, log_path, api_key):
        self.process, self.base_url, self.log_path, self.api_key = process, base_url, log_path, api_key

    def child_pid(self, marker: str) -> int | None:
        """The pid of the supervisor's child whose command line contains marker."""
        pids = self.child_pids(marker)
        return pids[0] if pids else None

    def child_pids(self, marker: str) -> list[int]:
        """The pids of the supervisor's live children whose command line contains marker."""
        pids = []
        for child in psutil.Process(self.process.pid).children():
            try:
                if any(marker in part for part in child.cmdline()) and child.status() != psutil.STATUS_ZOMBIE:
                    pids.append(child.pid)
            except psutil.NoSuchProcess:
                continue
        return pids

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def healthy(self) -> bool:
        try:
            return requests.get(f"{self.base_url}/healthz", timeout=10).status_code == 200
        except requests.ConnectionError:
            return False
