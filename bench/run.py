"""`make bench`: run every bench/bench_*.py; each prints its figures next to a floor measured in the same run."""
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from app.supervisor import WORKER_ENV  # noqa: E402  (benchmarks run as the workers do)


def main() -> int:
    failures = 0
    for script in sorted(HERE.glob("bench_*.py")):
        print(f"\n== {script.name}", flush=True)
        env = {**os.environ, **WORKER_ENV}
        failures += subprocess.call([sys.executable, str(script)], cwd=HERE.parent, env=env) != 0
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
