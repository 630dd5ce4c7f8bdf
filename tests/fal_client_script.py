"""`python -m tests.fal_client_script <phase> <photo>`: the official fal-client, unchanged, against Stagecraft.

It reads FAL_QUEUE_RUN_HOST, FAL_KEY and SSL_CERT_FILE from the environment (the client reads the
host when it is imported) and prints what it saw as one JSON object. Phases: "cancel" (no worker is
running, so the request is still queued) and "run" (a worker is running).
"""
import base64
import json
import sys
from pathlib import Path

import fal_client

EDIT = "fal-ai/nano-banana-pro/edit"
PRESET = "stagecraft/enhance"


def unsigned(value):
    """A result with each signed URL's expiry and signature left out: two reads a second apart sign differently."""
    if isinstance(value, dict):
        return {key: unsigned(item) for key, item in value.items()}
    if isinstance(value, list):
        return [unsigned(item) for item in value]
    if isinstance(value, str) and value.startswith("https://"):
        return value.split("?", 1)[0]
    return value


def status_word(status) -> str:
    return type(status).__name__


def cancel_phase(photo: str) -> dict:
    handle = fal_client.submit(EDIT, {"prompt": "brighten the room", "image_urls": [photo]})
    queued = handle.status()
    handle.cancel()
    after = fal_client.status(EDIT, handle.request_id, with_logs=True)
    try:
        handle.get()
        get_error = None
    except fal_client.client.FalClientHTTPError as error:
        get_error = {"status_code": error.status_code, "message": str(error)}
    try:
        handle.cancel()
        second_cancel = None
    except fal_client.client.FalClientHTTPError as error:
        second_cancel = error.status_code
    return {
        "request_id": handle.request_id,
        "status_url": handle.status_url,
        "queued": status_word(queued),
        "queued_position": getattr(queued, "position", None),
        "after_cancel": {"kind": status_word(after), "error_type": after.error_type, "logs": after.logs},
        "get_error": get_error,
        "second_cancel": second_cancel,
    }


def run_phase(photo: str) -> dict:
    handle = fal_client.submit(EDIT, {"prompt": "brighten the room", "image_urls": [photo]})
    first = handle.status()
    events = [status_word(event) for event in handle.iter_events(with_logs=True, interval=0.05)]
    result = handle.get()
    again = fal_client.result(EDIT, handle.request_id)
    final = fal_client.status(EDIT, handle.request_id)
    updates, enqueued = [], []
    subscribed = fal_client.subscribe(
        PRESET, {"image_urls": [photo]}, with_logs=True, interval=0.05, priority="low",
        on_enqueue=enqueued.append, on_queue_update=lambda update: updates.append(status_word(update)),
    )
    return {
        "request_id": handle.request_id,
        "first": status_word(first),
        "events": events,
        "result": result,
        "same_result": unsigned(again) == unsigned(result),
        "final": {"kind": status_word(final), "metrics": final.metrics, "error": final.error},
        "subscribed": subscribed,
        "subscribe_updates": updates,
        "subscribe_request_id": enqueued[0] if enqueued else None,
    }


if __name__ == "__main__":
    phase, photo_path = sys.argv[1], sys.argv[2]
    photo = "data:image/jpeg;base64," + base64.b64encode(Path(photo_path).read_bytes()).decode()
    answer = cancel_phase(photo) if phase == "cancel" else run_phase(photo)
    print(json.dumps(answer))
