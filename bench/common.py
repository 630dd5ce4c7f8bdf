"""What the benchmarks share: a throwaway Stagecraft configuration under a temporary directory."""
from pathlib import Path


def bench_config(tmp: Path) -> dict:
    """SQLite, the embedded Redis socket and storage, all under tmp."""
    return {
        "SECRET_KEY": "bench",
        "VAR_DIR": str(tmp),
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp / 'bench.db'}",
        "REDIS_URL": f"unix://{tmp / 'redis' / 'redis.sock'}",
        "STORAGE_DIR": str(tmp / "storage"),
        "LOG_LEVEL": "WARNING",
    }
