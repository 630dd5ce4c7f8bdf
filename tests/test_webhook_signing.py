"""The signature scheme against the Standard Webhooks specification's worked example and its Python library."""
import base64
import time

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from app.projects.models import new_webhook_secret
from app.webhooks.signing import sign, signed_headers


def test_signature_matches_the_specifications_example():
    signature = sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330,
                     '{"test": 2432232314}')
    assert signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_each_secret_of_a_rotation_verifies_a_message_alone():
    new, old, stranger = new_webhook_secret(), new_webhook_secret(), new_webhook_secret()
    body = '{"type":"webhook.test","data":{"message":"Grüße"}}'
    headers = signed_headers([new, old], "msg_1", int(time.time()), body)

    assert Webhook(new).verify(body, headers) == Webhook(old).verify(body, headers)
    assert len(headers["webhook-signature"].split(" ")) == 2
    with pytest.raises(WebhookVerificationError, match="No matching signature"):
        Webhook(stranger).verify(body, headers)


def test_new_secrets_are_whsec_with_32_random_bytes():
    secret = new_webhook_secret()
    assert secret.startswith("whsec_") and len(base64.b64decode(secret[6:])) == 32
    assert secret != new_webhook_secret()
