"""Which provider and model serve a request, which one takes over after a retryable failure, and
which ones are cooling down after failing again and again (a circuit breaker kept in Redis).
"""
import logging
from dataclasses import replace

from flask import current_app
from redis.exceptions import RedisError

from app.extensions import redis_queues
from app.providers.base import ProviderRefused, ProviderRequest
from app.providers.registry import all_providers

log = logging.getLogger(__name__)

FAILURES_KEY = "stagecraft:provider:failures:{}"
COOLDOWN_KEY = "stagecraft:provider:cooldown:{}"
FAILURE_WINDOW = 300  # seconds over which consecutive failures are counted


def model_for(provider, request: ProviderRequest, model: str | None = None) -> str | None:
    """The model a provider runs: the one asked for, else the first of its models (default first) able to
    do the request, else its default (whose refusal says why); None for the local engine."""
    if model or not getattr(provider, "models", None):
        return model
    able = next((m for m in _models_default_first(provider) if accepts(provider, replace(request, model=m))), None)
    return able or provider.default_model


def accepts(provider, request: ProviderRequest) -> bool:
    try:
        provider.check(request)
    except ProviderRefused:
        return False
    return True


def ai_providers_in_order() -> list:
    """Configured AI providers in the fallback order (PROVIDER_ORDER), the others after them."""
    providers = {name: p for name, p in all_providers().items() if getattr(p, "models", None)}
    order = [name for name in current_app.config["PROVIDER_ORDER"] if name in providers]
    return [providers[name] for name in order + sorted(set(providers) - set(order))]


def workspace_choice(workspace, request: ProviderRequest):
    """The AI service (and model) a workspace chose to try first, while it is connected and able to do the
    request: its chosen model, else another of its models; None otherwise."""
    chosen = all_providers().get(workspace.default_provider) if workspace.default_provider else None
    if chosen is None:
        return None
    preferred = workspace.default_model if workspace.default_model in (getattr(chosen, "models", None) or {}) else None
    for model in dict.fromkeys((preferred, None)):
        if accepts(chosen, replace(request, model=model_for(chosen, request, model))):
            return chosen, model
    return None


def first_able(request: ProviderRequest, candidates=None):
    """The first AI provider (and its model) that can do the request and is not cooling down, or None."""
    for provider in ai_providers_in_order() if candidates is None else candidates:
        if is_cooling_down(provider.name):
            continue
        model = model_for(provider, request)
        if accepts(provider, replace(request, model=model)):
            return provider, model
    return None


def _models_default_first(provider) -> list[str]:
    return sorted(provider.models, key=lambda model: model != provider.default_model)


def next_able(request: ProviderRequest, after: str):
    """After `after` failed: the next provider in the order that can do the request, wrapping around."""
    providers = ai_providers_in_order()
    names = [provider.name for provider in providers]
    start = names.index(after) + 1 if after in names else 0
    return first_able(request, [p for p in providers[start:] + providers[:start] if p.name != after])


def record_failure(provider_name: str) -> None:
    """Count a retryable failure; enough of them in a row cool the provider down for a while."""
    config = current_app.config
    try:
        failures = redis_queues.connection.incr(FAILURES_KEY.format(provider_name))
        redis_queues.connection.expire(FAILURES_KEY.format(provider_name), FAILURE_WINDOW)
        if failures >= config["PROVIDER_FAILURE_THRESHOLD"]:
            redis_queues.connection.set(COOLDOWN_KEY.format(provider_name), failures, ex=config["PROVIDER_COOLDOWN"])
            log.warning("provider %s cools down after %s failures in a row", provider_name, failures)
    except RedisError:
        log.warning("could not count a failure of provider %s", provider_name)


def record_success(provider_name: str) -> None:
    try:
        redis_queues.connection.delete(FAILURES_KEY.format(provider_name))
    except RedisError:
        pass


def is_cooling_down(provider_name: str) -> bool:
    try:
        return bool(redis_queues.connection.exists(COOLDOWN_KEY.format(provider_name)))
    except RedisError:
        return False


def is_ai(provider) -> bool:
    """An AI service (it has models), not the built-in engine."""
    return bool(getattr(provider, "models", None))
