"""Which providers exist and which one serves a request."""
from app.errors import ApiError
from app.providers.local import LocalProvider

PROVIDERS = {"local": LocalProvider()}


def get_provider(name: str):
    """The provider registered under a name; 400 listing the known ones otherwise."""
    provider = PROVIDERS.get(name)
    if provider is None:
        raise ApiError(f"Unknown provider '{name}'. Available: {', '.join(sorted(PROVIDERS))}.")
    return provider
