"""Server-sent events: the frame every stream writes and the headers that keep proxies from buffering it."""

# nginx and similar proxies hold a response until it ends unless told not to; a stream never ends on its own.
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def sse_event(name: str, data: str, event_id: str | None = None) -> str:
    """One event: its id if given, its name, and every line of the payload with its own data: prefix."""
    lines = [f"id: {event_id}"] if event_id else []
    lines.append(f"event: {name}")
    lines += [f"data: {line}" for line in data.splitlines() or [""]]
    return "\n".join(lines) + "\n\n"
