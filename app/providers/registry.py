"""Which providers exist (the local engine, and each AI provider whose key is set) and which one serves a request."""
from flask import current_app

from app.errors import ApiError
from app.providers.fal import FalProvider
from app.providers.gemini import GeminiProvider
from app.providers.local import LocalProvider
from app.providers.nanobanana import NanobananaProvider

# Always there, whatever the configuration.
PROVIDERS = {"local": LocalProvider()}
# AI adapters: (class, setting holding its key, setting holding its base URL). Each registers when its key is set.
ADAPTERS: tuple = (
    (FalProvider, "FAL_KEY", "FAL_QUEUE_URL"),
    (NanobananaProvider, "NANOBANANA_API_KEY", "NANOBANANA_BASE_URL"),
    (GeminiProvider, "GEMINI_API_KEY", "GEMINI_BASE_URL"),
)


def configure(app) -> None:
    """Build the app's providers from its configuration (called once by create_app)."""
    configured = {}
    for adapter, key_setting, url_setting in ADAPTERS:
        if app.config.get(key_setting):
            configured[adapter.name] = adapter(
                app.config[key_setting], app.config[url_setting], timeout=app.config["PROVIDER_TIMEOUT"]
            )
    app.extensions["providers"] = configured


def all_providers() -> dict:
    """Every provider of the current app, by name."""
    return {**PROVIDERS, **current_app.extensions.get("providers", {})}


def get_provider(name: str):
    """The provider registered under a name; 400 listing the known ones otherwise."""
    provider = all_providers().get(name)
    if provider is None:
        raise ApiError(f"Unknown provider '{name}'. Available: {', '.join(sorted(all_providers()))}.")
    return provider


def model_ids(provider) -> list[str]:
    return list(getattr(provider, "models", None) or [provider.name])


def provider_for_model(model: str):
    """The provider serving a model; 400 listing the available models otherwise."""
    for provider in all_providers().values():
        if model in model_ids(provider):
            return provider
    available = sorted(m for provider in all_providers().values() for m in model_ids(provider))
    raise ApiError(f"Unknown model '{model}'. Available: {', '.join(available)}.")


def model_prices() -> dict[str, int]:
    """Credits per output image at 1K for each AI model configured (CREDIT_PRICES may override them)."""
    return {
        model.id: model.price
        for provider in all_providers().values()
        for model in (getattr(provider, "models", None) or {}).values()
    }
