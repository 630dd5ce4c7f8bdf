"""The errors the imaging package raises: input a person has to fix, and edits that found nothing to do."""


class ImageRejected(ValueError):
    """An uploaded file that cannot be used as a photo; str() tells the person what to do."""


class NothingToChange(Exception):
    """An edit was not confident it could improve this photo, so it left it alone; str() says why."""


class UnsuitablePhoto(ValueError):
    """An edit made for another kind of scene (e.g. an interior-only fix on an exterior); str() says which."""
