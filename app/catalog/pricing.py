"""What a generation costs: one pricing table, credits = model price × resolution factor × images."""
import json

# Credits per output image at 1K, by provider model. "local" is the offline engine.
DEFAULT_MODEL_PRICES = {"local": 1}
RESOLUTION_FACTORS = {None: 1, "1K": 1, "2K": 2, "4K": 4}


def load_prices(raw: str | None) -> dict[str, int]:
    """The default price table, overridden by a JSON object such as {"fal-ai/nano-banana": 4}."""
    prices = dict(DEFAULT_MODEL_PRICES)
    if raw:
        overrides = json.loads(raw)
        if not isinstance(overrides, dict) or not all(isinstance(v, int) and v >= 0 for v in overrides.values()):
            raise ValueError("CREDIT_PRICES must be a JSON object of model name to whole credits per image")
        prices.update(overrides)
    return prices


def price(prices: dict[str, int], model: str, resolution: str | None, num_images: int) -> int:
    """Credits for num_images outputs of a model at a resolution."""
    per_image = prices.get(model, prices.get("default", 1))
    return per_image * RESOLUTION_FACTORS.get(resolution, 1) * max(1, num_images)
