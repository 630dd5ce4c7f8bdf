"""Which providers exist and which one serves a request."""
from app.errors import ApiError
from app.providers.local import LocalProvider

PROVIDERS = {"local": LocalProvider()}
# Model name → provider that serves it. AI providers add their models here when configured.
MODELS = {"local": "local"}


def get_provider(name: str):
    """The provider registered under a name; 400 listing the known ones otherwise."""
    provider = PROVIDERS.get(name)
    if provider is None:
        raise ApiError(f"Unknown provider '{name}'. Available: {', '.join(sorted(PROVIDERS))}.")
    return provider


def provider_for_model(model: str):
    """The provider serving a model; 400 listing the available models otherwise."""
    if model not in MODELS:
        raise ApiError(f"Unknown model '{model}'. Available: {', '.join(sorted(MODELS))}.")
    return get_provider(MODELS[model])
