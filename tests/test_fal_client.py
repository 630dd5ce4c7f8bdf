"""The official fal-client, unchanged, against Stagecraft served over TLS by gunicorn with a real worker.

The client always speaks https to $FAL_QUEUE_RUN_HOST, so the test makes a throwaway certificate for
127.0.0.1, starts gunicorn as `make run` does with TLS_CERT_FILE / TLS_KEY_FILE, and has the client
trust that certificate through SSL_CERT_FILE.
"""
import datetime
import ipaddress
import json
import os
import subprocess
import sys

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from app.extensions import db
from app.generations.models import Generation, GenerationStatus
from tests import factories
from tests.processes import ROOT, free_port, start_web, start_worker, stop_tree, wait_until_healthy

CLIENT_TIMEOUT = 180


def make_certificate(directory) -> tuple[str, str]:
    """A self-signed certificate for 127.0.0.1 and its key, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "tls-cert.pem", directory / "tls-key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return str(cert_path), str(key_path)


@pytest.fixture
def fal_env(fal_queue) -> dict:
    """fal.ai connected (its stand-in): the model this API names runs there, for the web and worker processes."""
    return {"FAL_KEY": fal_queue.key, "FAL_QUEUE_URL": fal_queue.url, "OUTBOUND_ALLOWLIST": "127.0.0.1",
            "PROVIDER_POLL_INTERVAL": "0.05", "PROVIDER_POLL_MAX": "0.2"}


@pytest.fixture
def https_stagecraft(config, tmp_path, fal_env):
    """gunicorn serving https on 127.0.0.1 with a throwaway certificate; yields (port, certificate path)."""
    cert, key = make_certificate(tmp_path)
    port = free_port()
    with open(tmp_path / "gunicorn.log", "ab") as log:
        web = start_web(config, port, log_file=log, TLS_CERT_FILE=cert, TLS_KEY_FILE=key, **fal_env)
    try:
        wait_until_healthy(f"https://127.0.0.1:{port}", web, verify=cert, log=tmp_path / "gunicorn.log")
        yield port, cert
    finally:
        stop_tree(web)


def run_client(phase: str, port: int, cert: str, key: str) -> dict:
    """The client in its own process, configured only through the environment variables it documents."""
    env = {name: value for name, value in os.environ.items() if "proxy" not in name.lower()}
    env.update(FAL_QUEUE_RUN_HOST=f"127.0.0.1:{port}/fal/queue", FAL_KEY=key, SSL_CERT_FILE=cert, NO_PROXY="*")
    photo = factories.PHOTOS / "kitchen_02.jpg"
    finished = subprocess.run(
        [sys.executable, "-m", "tests.fal_client_script", phase, str(photo)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=CLIENT_TIMEOUT,
    )
    assert finished.returncode == 0, finished.stderr[-3000:]
    return json.loads(finished.stdout.strip().splitlines()[-1])


def test_official_fal_client_submits_follows_cancels_and_reads_results_over_tls(
    config, project, https_stagecraft, fal_env
):
    port, cert = https_stagecraft
    key = factories.make_api_key(project)

    # No worker yet: the request is still queued when the client cancels it.
    canceled = run_client("cancel", port, cert, key)
    assert canceled["status_url"].startswith(f"https://127.0.0.1:{port}/fal/queue/fal-ai/nano-banana-pro/requests/")
    assert (canceled["queued"], canceled["queued_position"]) == ("Queued", 0)
    assert canceled["after_cancel"]["kind"] == "Completed"
    assert canceled["after_cancel"]["error_type"] == "canceled"
    assert canceled["get_error"]["status_code"] == 400
    assert canceled["second_cancel"] == 400
    db.session.expire_all()
    assert db.session.get(Generation, canceled["request_id"]).status is GenerationStatus.CANCELED

    worker = start_worker(config, **fal_env)
    try:
        ran = run_client("run", port, cert, key)
    finally:
        stop_tree(worker)
    assert ran["events"][-1] == "Completed"
    assert set(ran["events"]) <= {"Queued", "InProgress", "Completed"}
    [image] = ran["result"]["images"]
    assert image["url"].startswith(f"https://127.0.0.1:{port}/files/") and "sig=" in image["url"]
    downloaded = requests.get(image["url"], verify=cert, timeout=30)
    assert downloaded.status_code == 200 and len(downloaded.content) == image["file_size"]
    assert ran["same_result"] and ran["final"]["kind"] == "Completed" and ran["final"]["error"] is None
    assert isinstance(ran["final"]["metrics"]["inference_time"], float)

    stream = requests.get(
        f"https://127.0.0.1:{port}/fal/queue/fal-ai/nano-banana-pro/requests/{ran['request_id']}/status/stream",
        headers={"Authorization": f"Key {key}"}, verify=cert, timeout=30,
    )
    assert stream.headers["Content-Type"].startswith("text/event-stream")
    [event] = [block for block in stream.text.split("\n\n") if block.startswith("data: ")]
    assert json.loads(event[len("data: "):])["status"] == "COMPLETED"  # and the stream closed after it

    assert ran["subscribed"]["images"][0]["url"].startswith(f"https://127.0.0.1:{port}/files/")
    assert ran["subscribe_updates"][-1] == "Completed"
    db.session.expire_all()
    subscribed = db.session.get(Generation, ran["subscribe_request_id"])
    assert (subscribed.preset, subscribed.priority, subscribed.status) == ("enhance", -1, GenerationStatus.SUCCEEDED)


def test_tls_settings_come_in_pairs_and_make_gunicorn_serve_https(tmp_path):
    from app.config import load_config
    from app.supervisor import gunicorn_command

    cert, key = make_certificate(tmp_path)
    command = gunicorn_command(load_config({"TLS_CERT_FILE": cert, "TLS_KEY_FILE": key}))
    assert command[command.index("--certfile") + 1] == cert and command[command.index("--keyfile") + 1] == key
    assert "--certfile" not in gunicorn_command(load_config({}))
    with pytest.raises(ValueError, match="TLS_KEY_FILE is not"):
        load_config({"TLS_CERT_FILE": cert})
    with pytest.raises(ValueError, match="not a file"):
        load_config({"TLS_CERT_FILE": cert, "TLS_KEY_FILE": str(tmp_path / "missing.pem")})
