"""Before | after contact sheets of the local engine's presets on the shared fixture photos.

Run: python bench/bench_contact_sheet.py   (writes bench/out/contact_<preset>.jpg; `make bench` runs it)
Each row is one photo: before, after, and a map of what changed (black: untouched), with the
step notes (angle straightened, "no sky found", refusals) written under it.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from PIL import Image, ImageDraw  # noqa: E402

from app.catalog.presets import PRESETS  # noqa: E402
from app.imaging import scene  # noqa: E402
from app.imaging.io import load_photo  # noqa: E402
from app.imaging.pipeline import run_steps  # noqa: E402
from app.providers.base import ProviderError  # noqa: E402
from app.providers.local import refuse_unsuitable  # noqa: E402

PHOTOS = ROOT.parent / "shared" / "fixtures" / "photos"
OUT = ROOT / "bench" / "out"
TILE = 360
INTERIORS = ["kitchen_01", "living_01", "bathroom_01", "dark_living_01", "dark_bathroom_01", "bedroom_02",
             "tilted_kitchen_01", "living_04"]
EXTERIORS = ["exterior_01", "exterior_02", "exterior_03", "exterior_04", "exterior_05", "backlit_exterior_01",
             "tilted_exterior_01", "dusk_exterior_01"]
SHEETS = {
    "enhance": INTERIORS + EXTERIORS,
    "brighten-dark-room": ["dark_living_01", "dark_bedroom_01", "dark_bathroom_01", "dusk_exterior_01"],
    "straighten": ["tilted_kitchen_01", "tilted_exterior_01", "living_04", "living_02", "exterior_05", "bedroom_01"],
    "blue-sky": EXTERIORS + ["kitchen_03"],
    "green-lawn": EXTERIORS + ["living_02"],
    "day-to-dusk": EXTERIORS,
}


def _fit(image: Image.Image) -> Image.Image:
    copy = image.convert("RGB")
    copy.thumbnail((TILE, TILE), Image.Resampling.LANCZOS)
    return copy


def _change_map(before: Image.Image, after: Image.Image) -> Image.Image:
    if before.size != after.size:
        return Image.new("RGB", before.size, (60, 0, 60))
    difference = np.abs(np.asarray(after, np.int16) - np.asarray(before, np.int16)).max(axis=-1)
    return Image.fromarray(np.clip(difference * 4, 0, 255).astype(np.uint8), "L").convert("RGB")


def row(name: str, preset_id: str) -> tuple[list[Image.Image], str]:
    """Before, after and change map of one photo, and the text to print under them."""
    image = load_photo((PHOTOS / f"{name}.jpg").read_bytes(), max_pixels=40_000_000).image
    image.thumbnail((1200, 1200), Image.Resampling.LANCZOS)
    try:
        refuse_unsuitable(PRESETS[preset_id], image)
    except ProviderError as refused:
        return [_fit(image), _fit(image), _fit(_change_map(image, image))], f"{name}: REFUSED {refused.message}"
    result = run_steps(image, list(PRESETS[preset_id].local_pipeline))
    kind = scene.classify(image)
    note = "; ".join(result.notes) or ("changed" if result.changed else "unchanged")
    return [_fit(image), _fit(result.image), _fit(_change_map(image, result.image))], f"{name} ({kind}): {note}"


def sheet(preset_id: str, names: list[str]) -> Path:
    rows = [row(name, preset_id) for name in names]
    heights = [max(tile.height for tile in tiles) + 22 for tiles, _ in rows]
    canvas = Image.new("RGB", (3 * TILE + 8, sum(heights)), "white")
    draw = ImageDraw.Draw(canvas)
    top = 0
    for (tiles, text), height in zip(rows, heights):
        for column, tile in enumerate(tiles):
            canvas.paste(tile, (column * (TILE + 4), top))
        draw.text((4, top + height - 18), text[:170], fill=(0, 0, 0))
        top += height
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"contact_{preset_id}.jpg"
    canvas.save(path, "JPEG", quality=85)
    return path


def main() -> int:
    for preset_id, names in SHEETS.items():
        print(f"contact sheet: {sheet(preset_id, names)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
