"""Schemathesis against the real server: every operation of /api/openapi.json, with a valid API key.

gunicorn is started as `make run` starts it (tests/processes.py), on an ephemeral port, with the
test's throwaway database and the embedded Redis, plus one real worker. Schemathesis generates
valid and invalid requests for each operation and checks that none answers 5xx, that every status
is one the document lists, and that every response body matches its schema. In `make test` the run is
the same on every machine: schemathesis's deterministic mode with FUZZ_EXAMPLES cases per operation
(about 3,000 requests), however long they take. `make fuzz` explores instead, for FUZZ_SECONDS from a
fresh seed (or FUZZ_SEED). A failure prints schemathesis's report and the server's log, with a curl
command (and the seed) that reproduces each finding.
"""
import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.auth.models import ApiKey
from app.extensions import db
from tests import factories
from tests.processes import HANG_GUARD, free_port, start_web, start_worker, stop_tree, wait_until_healthy

ROOT = Path(__file__).resolve().parents[1]
FUZZ_SECONDS = os.environ.get("FUZZ_SECONDS")
FUZZ_EXAMPLES = os.environ.get("FUZZ_EXAMPLES", "20")
CHECKS = "not_a_server_error,status_code_conformance,response_schema_conformance"


@pytest.fixture
def server(config, tmp_path, monkeypatch):
    """The product's web server and one worker on the test's database; their output in tmp_path."""
    # A live-URL miss waits for its image however slow the machine is: its 504 (still generating) is the product's
    # answer to a deadline, and schemathesis would count it as a server error (a loaded CI run took over 5 s).
    monkeypatch.setenv("LIVE_WAIT_SECONDS", str(HANG_GUARD))
    port, log = free_port(), open(tmp_path / "server.log", "wb")
    processes = [start_web(config, port, log_file=log), start_worker(config, log_file=log)]
    try:
        wait_until_healthy(f"http://127.0.0.1:{port}", processes[0], workers=1)
        yield f"http://127.0.0.1:{port}", tmp_path / "server.log"
    finally:
        for process in processes:
            stop_tree(process)
        log.close()


def test_schemathesis_finds_no_server_errors_or_schema_mismatches(app, server, tmp_path):
    base_url, server_log = server
    project = factories.make_project(factories.make_user())
    key = factories.make_api_key(project)
    factories.make_image(project)
    db.session.scalar(db.select(ApiKey)).rate_limit = 1_000_000  # the run tests the API, not the key's hourly limit
    db.session.commit()
    command = [
        str(Path(sys.executable).parent / "st"), "run", f"{base_url}/api/openapi.json",
        "--checks", CHECKS, "--header", f"X-API-Key: {key}", *run_length(),
        # One worker: hypothesis describes its strategies with ast.parse, which CPython 3.11 breaks across threads.
        "--workers", "1", "--request-timeout", str(HANG_GUARD),
        "--suppress-health-check", "all", "--report", "junit", "--report-dir", str(tmp_path / "report"),
    ]
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True)
    output = result.stdout + result.stderr
    print(output[-6000:])  # the summary: operations, test cases and time taken (shown with pytest -s)
    assert result.returncode == 0, f"{output[-12000:]}\n--- server log ---\n{server_log.read_text()[-4000:]}"
    assert "No issues found" in output or " passed" in output, output[-3000:]


def run_length() -> list[str]:
    """A fixed set of cases (the same everywhere), or with FUZZ_SECONDS a time-boxed exploration from a fresh seed."""
    if FUZZ_SECONDS:
        return ["--max-time", FUZZ_SECONDS, *(["--seed", os.environ["FUZZ_SEED"]] if "FUZZ_SEED" in os.environ else [])]
    return ["--max-examples", FUZZ_EXAMPLES, "--generation-deterministic"]
