"""The one error the imaging package raises for input a person has to fix."""


class ImageRejected(ValueError):
    """An uploaded file that cannot be used as a photo; str() tells the person what to do."""
