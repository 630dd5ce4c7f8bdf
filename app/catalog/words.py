"""The words pages use for what happens to a photo and to credits (the APIs keep their own words)."""

# A generation's status (by GenerationStatus value) as the badge on a page says it.
STATUS_WORDS = {
    "queued": "Waiting",
    "processing": "Working",
    "succeeded": "Done",
    "failed": "Failed",
    "canceled": "Canceled",
}

# The filter of a project's generations: page value → (the words shown, the v1 API status it stands for).
STATUS_FILTERS = {
    "waiting": ("Waiting", "pending"),
    "working": ("Working", "processing"),
    "done": ("Done", "success"),
    "failed": ("Failed or canceled", "failed"),
}

# A credit ledger row (by LedgerKind value), for the account page.
LEDGER_WORDS = {
    "grant": "Credits added",
    "reserve": "Held for a photo job",
    "capture": "Photo job done: held credits spent",
    "refund": "Credits given back",
    "adjust": "Credits removed by an administrator",
}


def status_word(status: str) -> str:
    """The page word for a generation status value (the value itself if unknown)."""
    return STATUS_WORDS.get(status, status)
