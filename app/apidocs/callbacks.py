"""The OpenAPI description of what Stagecraft POSTs to a caller's callbackUrl (the document's "webhooks")."""

SIGNATURE_HEADERS = {
    "webhook-id": "The message id (msg_…), the same on every retry: ignore ids you have already handled.",
    "webhook-timestamp": "Unix seconds when this attempt was signed; refuse ones more than 5 minutes off.",
    "webhook-signature": "v1,<base64 HMAC-SHA256 of \"{webhook-id}.{webhook-timestamp}.{raw body}\"> keyed with the "
                         "base64-decoded part of the project's whsec_ secret after the prefix (Standard Webhooks); "
                         "several space-separated during the 24 hours after a rotation.",
}
# What Stagecraft POSTs to a generation's callbackUrl once it ends.
WEBHOOKS = {
    "generationFinished": {
        "post": {
            "summary": "A generation with a callbackUrl ended (succeeded, failed or canceled)",
            "description": "Answer 2xx within 15 s. Anything else is retried after 1, 3, 9, 27 and 81 minutes "
                           "with the same webhook-id and body; redirects are not followed.",
            "parameters": [
                {"name": name, "in": "header", "required": True, "schema": {"type": "string"}, "description": text}
                for name, text in SIGNATURE_HEADERS.items()
            ],
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object",
                "required": ["type", "timestamp", "data"],
                "properties": {
                    "type": {"type": "string", "enum": ["generation.succeeded", "generation.failed", "generation.canceled"]},
                    "timestamp": {"type": "string", "format": "date-time"},
                    "data": {"$ref": "#/components/schemas/Generation"},
                },
            }}}},
            "responses": {"200": {"description": "Received; any 2xx counts."}},
        }
    }
}
