"""The studio's rules: batches of work on a listing's photos and what each photo's card shows."""


def card_states(project, images) -> dict:
    """Each photo's latest work, by photo id, for its card on the listing page (filled in by the studio)."""
    return {}
