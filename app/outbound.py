"""The one way Stagecraft fetches a URL that a caller gave us or a provider returned, safe against SSRF.

Every hop (the URL and each redirect) is checked before anything connects: http or https, no
credentials, a host, and every address the host resolves to on the public internet, unless the host
is named in OUTBOUND_ALLOWLIST. The request then goes to the address that was checked, with the real
host name in the Host header, the TLS SNI and the certificate check, so a DNS answer that changes
between check and connect (rebinding) is never used. Environment proxies, .netrc and CA overrides are
ignored: a proxy would resolve the name again itself.

Messages name the host and path only, never the query: signed URLs carry their signature there.

Known limits: only the first resolved address is tried (no fallback to the next one when it does not
answer); the timeout is a budget for the whole fetch, but one blocked read may overrun it by up to
its own length; a refusal ("not on the public internet") and an unresolvable name read differently.
"""
import ipaddress
import socket
import time
from dataclasses import dataclass
from urllib.parse import SplitResult, urljoin, urlsplit

import requests
import urllib3
from flask import current_app
from requests.adapters import HTTPAdapter

MAX_REDIRECTS = 3
CHUNK_SIZE = 64 * 1024
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
METADATA_ADDRESS = ipaddress.ip_address("169.254.169.254")
SHARED_ADDRESS_SPACE = ipaddress.ip_network("100.64.0.0/10")
NAT64_PREFIX = ipaddress.ip_network("64:ff9b::/96")
LOCAL_NAT64_PREFIX = ipaddress.ip_network("64:ff9b:1::/48")

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class OutboundRefused(ValueError):
    """The URL may not be fetched; the message says why, for a person."""


class OutboundError(Exception):
    """The fetch failed (network, timeout, HTTP error status, too large); retryable says if a retry may help."""

    def __init__(self, message: str, retryable: bool):
        super().__init__(message)
        self.message = message
        self.retryable = retryable


@dataclass(frozen=True)
class Target:
    """A checked URL: the parts to send and the address that passed the check."""

    url: str
    parts: SplitResult
    address: Address

    @property
    def host(self) -> str:
        return self.parts.hostname

    @property
    def where(self) -> str:
        """Host and path, the only parts of a URL that messages may show."""
        return f"{self.host}{self.parts.path or '/'}"

    @property
    def pinned_url(self) -> str:
        """The URL with its host replaced by the checked address, so nothing resolves the name again."""
        literal = f"[{self.address}]" if self.address.version == 6 else str(self.address)
        query = f"?{self.parts.query}" if self.parts.query else ""
        return f"{self.parts.scheme}://{literal}:{port_of(self.parts)}{self.parts.path or '/'}{query}"


class PinnedHostAdapter(HTTPAdapter):
    """Sends https requests addressed to a checked IP with the real host name for SNI and the certificate check."""

    def __init__(self, host: str):
        self.host = host
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, server_hostname=self.host, assert_hostname=self.host, **kwargs)


def fetch(url: str, *, max_bytes: int, timeout: float = 30.0) -> bytes:
    """The body at an http(s) URL on the public internet, at most max_bytes, within about timeout seconds."""
    deadline = time.monotonic() + timeout
    target = check_url(url)
    with requests.Session() as session:
        session.trust_env = False
        session.mount("https://", PinnedHostAdapter(target.host))
        redirects = 0
        while True:
            response = send(session, target, deadline)
            if response.status_code not in REDIRECT_STATUSES:
                return read_body(response, target, max_bytes, deadline)
            response.close()
            redirects += 1
            if redirects > MAX_REDIRECTS:
                raise OutboundError(f"{cannot(target)}: it redirected more than {MAX_REDIRECTS} times.", False)
            target = follow(target, response.headers.get("Location"), response.status_code)


@dataclass(frozen=True)
class Answer:
    """What a POST got back: the status and the first bytes of the body."""

    status: int
    body: bytes


def post(url: str, *, body: bytes, headers: dict, timeout: float = 15.0, max_bytes: int = 4096) -> Answer:
    """POST body to an http(s) URL on the public internet and return the answer; a redirect is an answer, not followed.

    OutboundRefused when the URL breaks a rule; OutboundError when the connection fails (retryable unless the
    certificate could not be verified) or the answer takes longer than timeout. The body read back is cut off
    at max_bytes.
    """
    deadline = time.monotonic() + timeout
    target = check_url(url)
    sent_headers = {"User-Agent": "Stagecraft", **headers, "Host": target.parts.netloc, "Accept-Encoding": "identity"}
    with requests.Session() as session:
        session.trust_env = False
        session.mount("https://", PinnedHostAdapter(target.host))
        try:
            response = session.post(
                target.pinned_url, data=body, headers=sent_headers, timeout=(timeout, timeout), stream=True,
                allow_redirects=False,
            )
        except requests.RequestException as error:
            raise network_failure(target.where, error) from None
        with response:
            return Answer(response.status_code, read_some(response, max_bytes, deadline))


def read_some(response: requests.Response, max_bytes: int, deadline: float) -> bytes:
    """Up to max_bytes of a body, whatever has arrived by the deadline (an answer's excerpt, not its content)."""
    body = bytearray()
    try:
        while len(body) < max_bytes and time.monotonic() < deadline:
            chunk = response.raw.read1(min(CHUNK_SIZE, max_bytes - len(body)), decode_content=True)
            if not chunk:
                break
            body += chunk
    except (requests.RequestException, urllib3.exceptions.HTTPError):
        pass  # the status already arrived; a body cut short is still an answer
    return bytes(body)


def check_url(url: str) -> Target:
    """The URL checked against every rule, with the address to connect to; OutboundRefused if it breaks one."""
    parts = split(url)
    return Target(url, parts, resolve(parts.hostname, port_of(parts)))


def port_of(parts: SplitResult) -> int:
    default = 443 if parts.scheme == "https" else 80
    return default if parts.port is None else parts.port


def split(url: str) -> SplitResult:
    """The parts of an http(s) URL with a host and no credentials (nothing is resolved yet)."""
    try:
        parts = urlsplit(url)
        port_of(parts)  # raises ValueError for a port that is not a number from 0 to 65535
    except ValueError:
        raise OutboundRefused("This is not a valid URL.") from None
    if parts.scheme not in ("http", "https"):
        raise OutboundRefused(f"Only http and https URLs can be downloaded, not {parts.scheme or 'this one'}.")
    if "@" in parts.netloc:
        raise OutboundRefused(f"The URL for {parts.hostname} holds a user name or password; remove them.")
    if not parts.hostname:
        raise OutboundRefused("The URL has no host name.")
    return parts


def resolve(host: str, port: int) -> Address:
    """The first address of host, after checking that all of them are public (or the host is allowlisted)."""
    try:
        answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (UnicodeError, ValueError):
        raise OutboundRefused(f"{host} is not a valid host name.") from None
    except socket.gaierror as error:
        message = f"The image at {host} could not be downloaded: the host name could not be resolved."
        raise OutboundError(message, retryable=error.errno == socket.EAI_AGAIN) from None
    addresses = [ipaddress.ip_address(answer[4][0]) for answer in answers]
    allowed = host.lower() in current_app.config.get("OUTBOUND_ALLOWLIST", ())
    if not allowed and not all(is_public(address) for address in addresses):
        # The address itself stays out of the message: it would map the internal network for a caller.
        raise OutboundRefused(f"The image at {host} cannot be downloaded: it is not on the public internet.")
    return addresses[0]


def is_public(address: Address) -> bool:
    """Whether an address is on the public internet, looking through IPv6 forms that carry an IPv4 one."""
    if isinstance(address, ipaddress.IPv6Address):
        wrapped = wrapped_ipv4(address)
        if wrapped is not None:
            return is_public(wrapped)
        tunnelled = [address.sixtofour, *(address.teredo or ())]
        if address in LOCAL_NAT64_PREFIX or not all(is_public(v4) for v4 in tunnelled if v4 is not None):
            return False
        if address.is_site_local:
            return False
    special = (
        address.is_loopback or address.is_private or address.is_link_local or address.is_multicast
        or address.is_reserved or address.is_unspecified
    )
    return address.is_global and not special and address not in SHARED_ADDRESS_SPACE and address != METADATA_ADDRESS


def wrapped_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv4-mapped, IPv4-compatible or NAT64 IPv6 address stands for."""
    if address.ipv4_mapped:
        return address.ipv4_mapped
    if int(address) < 2**32 or address in NAT64_PREFIX:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def follow(target: Target, location: str | None, status: int) -> Target:
    """The checked target of a redirect, refused unless it stays on the same host."""
    if not location:
        raise OutboundError(f"{cannot(target)}: it answered {status} without saying where to.", False)
    url = urljoin(target.url, location)
    parts = split(url)
    if parts.hostname != target.host:
        raise OutboundRefused(
            f"The image at {target.where} redirects to another host ({parts.hostname}); "
            "only redirects on the same host are followed."
        )
    return check_url(url)


def send(session: requests.Session, target: Target, deadline: float) -> requests.Response:
    """The response to a GET of the checked address, its body not read yet; OutboundError on an error status."""
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise OutboundError(f"{cannot(target)}: it took too long to answer.", retryable=True)
    headers = {"Host": target.parts.netloc, "Accept-Encoding": "identity", "User-Agent": "Stagecraft"}
    try:
        response = session.get(
            target.pinned_url, headers=headers, timeout=(remaining, remaining), stream=True, allow_redirects=False
        )
    except requests.RequestException as error:
        # "from None": the library's exception text holds the full URL, query included.
        raise network_failure(cannot(target), error) from None
    status = response.status_code
    if 200 <= status < 300 or status in REDIRECT_STATUSES:
        return response
    response.close()
    raise OutboundError(f"{cannot(target)}: it answered {status}.", retryable=status == 429 or status >= 500)


def read_body(response: requests.Response, target: Target, max_bytes: int, deadline: float) -> bytes:
    """The body, streamed and cut off past max_bytes or the deadline."""
    with response:
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > max_bytes:
            raise too_large(target, max_bytes)
        body = bytearray()
        try:
            # read1 returns what has arrived, so a body that trickles in still meets the deadline.
            while chunk := response.raw.read1(CHUNK_SIZE, decode_content=True):
                body += chunk
                if len(body) > max_bytes:
                    raise too_large(target, max_bytes)
                if time.monotonic() > deadline:
                    raise OutboundError(f"{cannot(target)}: it took too long to send.", retryable=True)
        except (requests.RequestException, urllib3.exceptions.HTTPError) as error:
            raise network_failure(cannot(target), error) from None
    return bytes(body)


def too_large(target: Target, max_bytes: int) -> OutboundError:
    return OutboundError(f"{cannot(target)}: it is larger than the limit of {max_bytes:,} bytes.", False)


def network_failure(subject: str, error: Exception) -> OutboundError:
    """The OutboundError for a request that got no answer (fetch or POST), worded for a person, without the query.

    A certificate that fails verification is not retryable: it is the server's setup (expired, self-signed,
    issued for another name) or someone in between, and it is the same on every attempt a retry schedule
    would make; the person who can fix it hears at once instead of after the last retry, and the request
    is not offered again to a host whose identity could not be checked.
    """
    if isinstance(error, (requests.Timeout, urllib3.exceptions.TimeoutError)):
        return OutboundError(f"{subject}: it took too long to answer.", retryable=True)
    if isinstance(error, (requests.exceptions.SSLError, urllib3.exceptions.SSLError)):
        return OutboundError(f"{subject}: its secure connection (certificate) could not be verified.", False)
    return OutboundError(f"{subject}: the connection failed ({type(error).__name__}).", retryable=True)


def cannot(target: Target) -> str:
    return f"The image at {target.where} could not be downloaded"
