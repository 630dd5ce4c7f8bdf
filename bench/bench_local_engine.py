"""Local engine speed on a 12-megapixel photo, against a decode + encode floor measured in the same run.

Run: python bench/bench_local_engine.py   (a report: always exits 0)
"""

from __future__ import annotations

import cProfile
import io
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from PIL import Image  # noqa: E402

from app.catalog.presets import PRESETS  # noqa: E402
from app.imaging.io import encode_image, load_photo  # noqa: E402
from app.imaging.pipeline import run_pipeline  # noqa: E402

PHOTO = ROOT.parent / "shared" / "fixtures" / "photos" / "kitchen_01.jpg"
SIZE = (4240, 2832)  # 12.0 megapixels, a common full-frame camera size
REPEATS = 5
ENHANCE_TARGET = 2.5


def pin_to_one_core() -> str:
    """Measure single-core speed, which is what one RQ worker process gets."""
    try:
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
        return "pinned to one core"
    except (AttributeError, OSError):
        return "not pinned (no sched_setaffinity here)"


def make_photo(directory: str) -> bytes:
    """Upscale the fixture to 12 MP and save it as a quality-90 JPEG."""
    path = Path(directory) / "bench_12mp.jpg"
    with Image.open(PHOTO) as source:
        source.convert("RGB").resize(SIZE, Image.Resampling.LANCZOS).save(path, "JPEG", quality=90)
    return path.read_bytes()


def best_of(task, repeats: int = REPEATS) -> float:
    """Fastest wall time of several runs, the usual way to filter out scheduler noise."""
    timings = []
    for _ in range(repeats):
        start = time.perf_counter()
        task()
        timings.append(time.perf_counter() - start)
    return min(timings)


def floor_task(data: bytes):
    def run() -> None:
        image = Image.open(io.BytesIO(data))
        image.load()
        image.save(io.BytesIO(), "JPEG", quality=90)

    return run


def preset_task(data: bytes, steps):
    def run() -> None:
        photo = load_photo(data, max_pixels=40_000_000)
        encode_image(run_pipeline(photo.image, list(steps)), "JPEG", quality=90)

    return run


def interleaved_best(first, second, repeats: int = REPEATS) -> tuple[float, float]:
    """Best times of two tasks run turn about, so both see the same load on a shared machine."""
    firsts, seconds = [], []
    for _ in range(repeats):
        firsts.append(best_of(first, 1))
        seconds.append(best_of(second, 1))
    return min(firsts), min(seconds)


def main() -> int:
    pinning = pin_to_one_core()
    with tempfile.TemporaryDirectory() as directory:
        data = make_photo(directory)
    floor = best_of(floor_task(data))
    print(f"12 MP JPEG ({SIZE[0]}x{SIZE[1]}, {len(data) / 1e6:.1f} MB), best of {REPEATS}, {pinning}")
    print(f"floor (Pillow decode + encode): {floor:.3f} s; each preset's ratio uses the floor column, "
          "measured turn about with it\n")
    print(f"{'preset':<22}{'seconds':>9}{'floor':>8}{'x floor':>9}  {'target':<14}result")
    for preset in PRESETS.values():
        if preset.local_pipeline is None:
            continue
        preset_floor, seconds = interleaved_best(floor_task(data), preset_task(data, preset.local_pipeline))
        ratio = seconds / preset_floor
        if preset.id == "enhance":
            target, verdict = f"<= {ENHANCE_TARGET}x", "PASS" if ratio <= ENHANCE_TARGET else "over"
        else:
            target, verdict = "-", "report"
        print(f"{preset.id:<22}{seconds:>9.3f}{preset_floor:>8.3f}{ratio:>9.2f}  {target:<14}{verdict}", flush=True)
    print_profile(preset_task(data, PRESETS["enhance"].local_pipeline))
    return 0


def print_profile(task, lines: int = 12) -> None:
    """Where one enhance run spends its time (decode and encode included), by own time."""
    profile = cProfile.Profile()
    profile.runcall(task)
    print("\nprofile of one enhance run (decode + enhance + encode), by own time:")
    stats = pstats.Stats(profile, stream=sys.stdout)
    stats.sort_stats("tottime").print_stats(lines)


if __name__ == "__main__":
    sys.exit(main())
