"""app.outbound against real HTTP(S) servers on 127.0.0.1 and the SSRF corpus (refused before connecting)."""
import io
import ipaddress
import socket
import ssl
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests.adapters
from PIL import Image

from app import outbound
from app.outbound import OutboundError, OutboundRefused, fetch


def small_jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "teal").save(buffer, "JPEG")
    return buffer.getvalue()


JPEG = small_jpeg()


class Upstream(BaseHTTPRequestHandler):
    """An upstream with one behaviour per path; the slow ones wait for server.release, which tests never set."""

    def log_message(self, *args):
        pass

    def do_GET(self):
        self.server.seen.append((self.path, self.headers["Host"]))
        path = self.path.split("?")[0]
        route = ROUTES.get(path) or ROUTES.get(path.rsplit("/", 1)[0] + "/")
        route(self) if route else self.answer(404, b"not here")

    def answer(self, status: int, body: bytes, length: int | None = None, headers=()):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        self.end_headers()
        self.wfile.write(body)

    def redirect(self, location: str):
        self.answer(302, b"", headers=[("Location", location)])

    def origin(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"


def chain(handler):
    remaining = int(handler.path.rsplit("/", 1)[1])
    handler.redirect(f"/chain/{remaining - 1}") if remaining else handler.answer(200, JPEG)


def streamed_large(handler):
    handler.send_response(200)
    handler.end_headers()  # no Content-Length: the body runs until the connection closes
    for _ in range(10):
        handler.wfile.write(b"x" * 1000)


def slow_headers(handler):
    handler.server.release.wait()


def slow_body(handler):
    handler.send_response(200)
    handler.send_header("Content-Length", "100")
    handler.end_headers()
    handler.wfile.flush()
    handler.server.release.wait()


def drip(handler):
    """A byte every 50 ms for up to 10 s: each read is quick, the whole body is not."""
    handler.send_response(200)
    handler.end_headers()
    try:
        for _ in range(200):
            handler.wfile.write(b"x")
            handler.wfile.flush()
            if handler.server.release.wait(0.05):
                return
    except OSError:
        return  # the client hung up, as it should
    handler.server.drip_finished.set()


ROUTES = {
    "/photo.jpg": lambda h: h.answer(200, JPEG),
    "/echo": lambda h: h.answer(200, f"{h.headers['Host']} {h.path}".encode()),
    "/declared-large": lambda h: h.answer(200, b"x" * 10, length=10_000_000),
    "/streamed-large": streamed_large,
    "/slow-headers": slow_headers,
    "/slow-body": slow_body,
    "/drip": drip,
    "/chain/": chain,
    "/loop": lambda h: h.redirect("/loop"),
    "/relative": lambda h: h.redirect("photo.jpg"),
    "/elsewhere": lambda h: h.redirect(f"http://localhost:{h.server.server_port}/photo.jpg"),
    "/with-credentials": lambda h: h.redirect(f"http://user:pw@127.0.0.1:{h.server.server_port}/photo.jpg"),
    "/to-file": lambda h: h.redirect("file:///etc/passwd"),
    "/no-location": lambda h: h.answer(302, b""),
    "/status/": lambda h: h.answer(int(h.path.split("?")[0].rsplit("/", 1)[1]), b"status"),
}


def serve(server):
    server.seen, server.release, server.drip_finished = [], threading.Event(), threading.Event()
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server


def stop(server):
    server.release.set()
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def upstream():
    server = serve(ThreadingHTTPServer(("127.0.0.1", 0), Upstream))
    yield f"http://127.0.0.1:{server.server_port}", server
    stop(server)


@pytest.fixture
def allowed(app, upstream):
    """The app allowing 127.0.0.1 (the test servers' host); yields the upstream origin."""
    app.config["OUTBOUND_ALLOWLIST"] = ("127.0.0.1",)
    origin, server = upstream
    server.seen.clear()
    return origin


def test_allowed_fetch_returns_the_bytes(allowed):
    body = fetch(f"{allowed}/photo.jpg", max_bytes=100_000)
    assert body == JPEG
    assert Image.open(io.BytesIO(body)).size == (8, 8)


def test_request_goes_with_the_original_host_header_path_and_query(allowed, upstream):
    body = fetch(f"{allowed}/echo?sig=abc&x=1", max_bytes=1000)
    assert body.decode() == f"127.0.0.1:{upstream[1].server_port} /echo?sig=abc&x=1"


def test_declared_content_length_over_the_cap_is_refused_before_reading(allowed):
    # The body is 10 bytes while 10 MB are declared: only the header check can give this message.
    with pytest.raises(OutboundError, match="larger than the limit of 1,000 bytes") as caught:
        fetch(f"{allowed}/declared-large", max_bytes=1000)
    assert caught.value.retryable is False


def test_streamed_body_over_the_cap_stops(allowed):
    with pytest.raises(OutboundError, match="larger than the limit of 5,000 bytes") as caught:
        fetch(f"{allowed}/streamed-large", max_bytes=5000)
    assert caught.value.retryable is False
    assert fetch(f"{allowed}/streamed-large", max_bytes=10_000) == b"x" * 10_000


@pytest.mark.parametrize("path", ["/slow-headers", "/slow-body", "/drip"])
def test_a_server_slower_than_the_timeout_fails_retryably(allowed, upstream, path):
    with pytest.raises(OutboundError, match="took too long") as caught:
        fetch(f"{allowed}{path}?sig=secret", max_bytes=100_000, timeout=0.3)
    assert caught.value.retryable is True
    assert "secret" not in caught.value.message
    assert not upstream[1].drip_finished.is_set(), "the fetch waited for the whole trickle instead of its deadline"


def test_up_to_three_same_host_redirects_are_followed(allowed, upstream):
    assert fetch(f"{allowed}/chain/3", max_bytes=100_000) == JPEG
    assert [path for path, _ in upstream[1].seen] == ["/chain/3", "/chain/2", "/chain/1", "/chain/0"]
    assert fetch(f"{allowed}/relative", max_bytes=100_000) == JPEG


def test_a_fourth_redirect_or_a_loop_fails(allowed):
    for path in ("/chain/4", "/loop"):
        with pytest.raises(OutboundError, match="redirected more than 3 times") as caught:
            fetch(f"{allowed}{path}", max_bytes=100_000)
        assert caught.value.retryable is False


def test_a_redirect_to_another_host_is_refused_even_when_that_host_is_allowed(app, allowed):
    app.config["OUTBOUND_ALLOWLIST"] = ("127.0.0.1", "localhost")
    with pytest.raises(OutboundRefused, match=r"redirects to another host \(localhost\)"):
        fetch(f"{allowed}/elsewhere", max_bytes=100_000)


@pytest.mark.parametrize("path, message", [
    ("/with-credentials", "user name or password"),
    ("/to-file", "Only http and https"),
])
def test_each_redirect_is_checked_again(allowed, upstream, path, message):
    with pytest.raises(OutboundRefused, match=message):
        fetch(f"{allowed}{path}", max_bytes=100_000)
    assert [seen for seen, _ in upstream[1].seen] == [path]


def test_a_redirect_without_location_fails(allowed):
    with pytest.raises(OutboundError, match="answered 302 without saying where to"):
        fetch(f"{allowed}/no-location", max_bytes=100_000)


@pytest.mark.parametrize("status, retryable", [(404, False), (403, False), (429, True), (503, True), (500, True)])
def test_error_statuses_name_host_and_path_but_not_the_query(allowed, status, retryable):
    with pytest.raises(OutboundError) as caught:
        fetch(f"{allowed}/status/{status}?X-Amz-Signature=secret", max_bytes=100_000)
    assert caught.value.retryable is retryable
    assert caught.value.message == f"The image at 127.0.0.1/status/{status} could not be downloaded: it answered {status}."


def test_a_refused_connection_is_a_retryable_error(app):
    app.config["OUTBOUND_ALLOWLIST"] = ("127.0.0.1",)
    with socket.socket() as probe:  # a port that was free a moment ago and has no listener now
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(OutboundError, match="the connection failed") as caught:
        fetch(f"http://127.0.0.1:{port}/x?sig=secret", max_bytes=100)
    assert caught.value.retryable is True
    assert "secret" not in caught.value.message


SSRF_CORPUS = [
    "http://127.0.0.1/", "http://localhost/", "http://[::1]/", "http://0.0.0.0/", "http://10.0.0.1/",
    "http://172.16.0.1/", "http://192.168.1.1/", "http://169.254.169.254/latest/meta-data/", "http://100.64.0.1/",
    "http://[::ffff:127.0.0.1]/", "http://[::ffff:7f00:1]/", "http://2130706433/", "http://0177.0.0.1/",
    "http://0x7f.0.0.1/", "http://0x7f.1/", "http://127.1/", "http://[fe80::1]/", "http://224.0.0.1/",
    "ftp://example.com/x", "file:///etc/passwd", "http://user:pass@example.com/", "http://user@example.com/",
    "https://[::7f00:1]/", "http://[64:ff9b::a00:1]/", "http://[2002:c0a8:101::1]/", "http://[fc00::1]/",
    "http://[::]/", "http://[ff02::1]/", "http:///path-only", "http://127.0.0.1:99999/", "not a url",
]


@pytest.mark.parametrize("url", SSRF_CORPUS)
def test_ssrf_corpus_is_refused_without_the_allowlist(app, url):
    app.config["OUTBOUND_ALLOWLIST"] = ()
    with pytest.raises(OutboundRefused):
        fetch(url, max_bytes=1000, timeout=1)


@pytest.mark.parametrize("spelling", ["localhost", "127.1", "2130706433", "0177.0.0.1", "0x7f.1", "[::ffff:127.0.0.1]"])
def test_other_spellings_of_an_allowlisted_address_are_refused(allowed, upstream, spelling):
    """Only 127.0.0.1 is allowed, and the server is really there: every other way of naming it is refused."""
    port = upstream[1].server_port
    with pytest.raises(OutboundRefused, match="not on the public internet"):
        fetch(f"http://{spelling}:{port}/photo.jpg", max_bytes=100_000)
    assert upstream[1].seen == []


def test_obfuscated_spellings_resolve_to_loopback_which_is_what_the_check_sees():
    """The proof that resolving catches numeric tricks: getaddrinfo normalises them to 127.0.0.1."""
    for spelling in ("2130706433", "0177.0.0.1", "0x7f.0.0.1", "0x7f.1", "127.1"):
        assert {answer[4][0] for answer in socket.getaddrinfo(spelling, 80)} == {"127.0.0.1"}


@pytest.mark.parametrize("address, public", [
    ("8.8.8.8", True), ("2606:4700::1", True), ("::ffff:8.8.8.8", True), ("64:ff9b::808:808", True),
    ("169.254.169.254", False), ("100.127.255.254", False), ("::ffff:10.0.0.1", False), ("::10.0.0.1", False),
    ("2002:7f00:1::1", False), ("2001:0:4136:e378:8000:63bf:3fff:fdd2", False), ("fec0::1", False),
    ("64:ff9b::7f00:1", False), ("64:ff9b:1::1", False), ("198.18.0.1", False), ("240.0.0.1", False),
])
def test_is_public_looks_through_ipv6_forms(address, public):
    assert outbound.is_public(ipaddress.ip_address(address)) is public


def test_connects_to_the_checked_address_not_a_second_answer(app, allowed, upstream, monkeypatch):
    """DNS rebinding: the name is resolved once; a later, different answer is never used."""
    real_getaddrinfo = socket.getaddrinfo
    answers = iter(["127.0.0.1", "127.0.0.2"])  # nothing listens on 127.0.0.2

    def rebinding(host, *args, **kwargs):
        if host == "rebind.test":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers), args[0]))]
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    app.config["OUTBOUND_ALLOWLIST"] = ("rebind.test",)
    port = upstream[1].server_port
    assert fetch(f"http://rebind.test:{port}/echo", max_bytes=1000) == f"rebind.test:{port} /echo".encode()
    assert next(answers) == "127.0.0.2"  # the second answer was never asked for


@pytest.fixture(scope="module")
def tls_upstream(tmp_path_factory):
    """An https upstream on 127.0.0.1 whose self-signed certificate names only localhost; records each SNI."""
    directory = tmp_path_factory.mktemp("tls")
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Upstream)
    server.sni = []
    context.sni_callback = lambda sock, name, ctx: server.sni.append(name)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    serve(server)
    yield server, str(cert)
    stop(server)


def test_https_checks_the_certificate_against_the_real_host_name(app, tls_upstream, monkeypatch):
    server, cert = tls_upstream
    monkeypatch.setattr(requests.adapters, "DEFAULT_CA_BUNDLE_PATH", cert)  # trust the test certificate
    app.config["OUTBOUND_ALLOWLIST"] = ("localhost", "127.0.0.1")
    port = server.server_port
    assert fetch(f"https://localhost:{port}/photo.jpg", max_bytes=100_000) == JPEG
    assert server.sni[-1] == "localhost"
    # The certificate names localhost, not 127.0.0.1: the same server reached by address fails the check.
    with pytest.raises(OutboundError, match="could not be verified") as caught:
        fetch(f"https://127.0.0.1:{port}/photo.jpg", max_bytes=100_000)
    assert caught.value.retryable is False


def test_https_refuses_a_certificate_nobody_vouches_for(app, tls_upstream):
    server, _ = tls_upstream
    app.config["OUTBOUND_ALLOWLIST"] = ("localhost",)
    with pytest.raises(OutboundError, match="could not be verified"):
        fetch(f"https://localhost:{server.server_port}/photo.jpg", max_bytes=100_000)


def test_a_callback_to_a_certificate_that_fails_the_check_is_not_retried(app, tls_upstream):
    """fetch and post share one classifier: an unverifiable certificate is the same on every retry."""
    server, _ = tls_upstream
    app.config["OUTBOUND_ALLOWLIST"] = ("localhost",)
    with pytest.raises(OutboundError, match="could not be verified") as caught:
        outbound.post(f"https://localhost:{server.server_port}/hooks", body=b"{}", headers={})
    assert caught.value.retryable is False
