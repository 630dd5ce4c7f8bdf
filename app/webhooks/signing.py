"""The Standard Webhooks signature: HMAC-SHA256 of "{id}.{timestamp}.{body}" keyed with the decoded whsec_ secret."""
import base64
import hashlib
import hmac

SECRET_PREFIX = "whsec_"


def secret_key(secret: str) -> bytes:
    """The key bytes of a whsec_ secret (the base64 after the prefix)."""
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def sign(secret: str, message_id: str, timestamp: int, body: str) -> str:
    """One signature, as it appears in the webhook-signature header: v1,<base64>."""
    content = f"{message_id}.{timestamp}.{body}".encode()
    digest = hmac.new(secret_key(secret), content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signed_headers(secrets: list[str], message_id: str, timestamp: int, body: str) -> dict:
    """The three Standard Webhooks headers; during a rotation each secret adds its signature (space-separated)."""
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(sign(secret, message_id, timestamp, body) for secret in secrets),
        "Content-Type": "application/json",
    }
