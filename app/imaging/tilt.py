"""Vertical correction: find near-vertical lines (walls, door frames), measure camera roll, straighten.

Lines are found by Hough-style voting on near-vertical edge pixels at ~1000 px, refined by a
least-squares fit, and their angles are fitted against horizontal position so converging
verticals (camera pitched up or down) are not mistaken for a tilted camera.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image

from app.imaging.errors import NothingToChange

MAX_TILT_DEGREES = 12.0
# Below about half a degree nobody sees a lean, and the estimate itself is only that good.
MIN_CORRECTION_DEGREES = 0.6
# Agreeing verticals must add up to this many image heights before a rotation is trusted:
# a leaning ladder shelf or a few chair legs must not rotate a level room.
MIN_SUPPORT_HEIGHTS = 3.5
_ANALYSIS_LONG_SIDE = 1000
_NEAR_VERTICAL = math.tan(math.radians(20))
_VOTE_ANGLES = np.arange(-MAX_TILT_DEGREES, MAX_TILT_DEGREES + 0.01, 0.25)
_MIN_LINE_FRACTION = 0.12  # a line must span at least this share of the image height
_MAX_LINES = 40


@dataclass(frozen=True)
class TiltEstimate:
    """The camera's roll in degrees (counter-clockwise positive) and how many image heights of lines agree."""

    degrees: float
    support: float

    @property
    def confident(self) -> bool:
        return self.support >= MIN_SUPPORT_HEIGHTS and abs(self.degrees) <= MAX_TILT_DEGREES - 0.5


def measure_tilt(image: Image.Image) -> TiltEstimate:
    """The roll of the scene's verticals and the evidence behind it (0.0 with no support when there is none)."""
    gray = image.convert("L")
    gray.thumbnail((_ANALYSIS_LONG_SIDE, _ANALYSIS_LONG_SIDE), Image.Resampling.BILINEAR, reducing_gap=2.0)
    luma = np.asarray(gray, dtype=np.float32)
    height, width = luma.shape
    xs, ys = _vertical_edge_pixels(luma)
    if xs.size < 100:
        return TiltEstimate(0.0, 0.0)
    ys = ys - height / 2.0
    lines = [_refine_line(xs, ys, angle, offset) for angle, offset in _vote_for_lines(xs, ys, height)]
    lines = [line for line in lines if line[2] >= _MIN_LINE_FRACTION * height]
    if not lines:
        return TiltEstimate(0.0, 0.0)
    table = np.array(lines, dtype=np.float64)
    table[:, 1] = table[:, 1] / width - 0.5
    roll, support = _roll_at_centre(table, height)
    return TiltEstimate(round(roll, 2), round(support / height, 2))


def estimate_tilt_degrees(image: Image.Image) -> float:
    """Counter-clockwise rotation of the scene's verticals in degrees (0.0 when there is no evidence)."""
    return measure_tilt(image).degrees


def _vertical_edge_pixels(luma: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates of strong edges whose direction is within 20° of vertical."""
    gx = np.zeros_like(luma)
    gy = np.zeros_like(luma)
    gx[:, 1:-1] = luma[:, 2:] - luma[:, :-2]
    gy[1:-1, :] = luma[2:, :] - luma[:-2, :]
    strength = np.abs(gx)
    threshold = max(16.0, float(np.percentile(strength, 90)))
    ys, xs = np.nonzero((strength > threshold) & (np.abs(gy) < strength * _NEAR_VERTICAL))
    return xs.astype(np.float32), ys.astype(np.float32)


def _vote_for_lines(xs: np.ndarray, ys: np.ndarray, height: int) -> list[tuple[float, float]]:
    """Strongest (angle, x at mid-height) peaks of a vote over near-vertical lines."""
    tans = np.tan(np.radians(_VOTE_ANGLES)).astype(np.float32)
    offsets = np.rint(xs[None, :] - ys[None, :] * tans[:, None]).astype(np.int64)
    low = offsets.min()
    bins = int(offsets.max() - low + 1)
    rows = np.arange(len(tans))[:, None] * bins
    votes = np.bincount((rows + offsets - low).ravel(), minlength=len(tans) * bins).reshape(len(tans), bins)
    peaks: list[tuple[float, float]] = []
    taken = np.zeros(bins, dtype=bool)
    for flat in np.argsort(votes, axis=None)[::-1][: _MAX_LINES * 50]:
        angle_index, column = divmod(int(flat), bins)
        if votes[angle_index, column] < _MIN_LINE_FRACTION * height or len(peaks) >= _MAX_LINES:
            break
        if taken[column]:
            continue
        # One physical line also scores at neighbouring offsets; claim a few pixels around it.
        taken[max(0, column - 3): column + 4] = True
        peaks.append((float(_VOTE_ANGLES[angle_index]), float(column + low)))
    return peaks


def _refine_line(xs: np.ndarray, ys: np.ndarray, angle: float, offset: float) -> tuple[float, float, float]:
    """Fit x = offset + slope * y to the longest unbroken run of edge pixels near a voted line.

    Returns (angle, offset, run length in rows). Brick or tile texture piles up votes from
    scattered fragments; only an unbroken run is a wall edge or a door frame.
    """
    slope = math.tan(math.radians(angle))
    top, bottom = -np.inf, np.inf
    run = 0.0
    for band in (2.5, 2.0, 2.0, 2.0):
        near = (np.abs(xs - (offset + slope * ys)) <= band) & (ys >= top) & (ys <= bottom)
        if np.count_nonzero(near) < 10:
            return angle, offset, 0.0
        top, bottom = _longest_run(ys[near])
        run = bottom - top
        near &= (ys >= top) & (ys <= bottom)
        y_near, x_near = ys[near], xs[near]
        spread = float(np.square(y_near - y_near.mean()).sum())
        if spread <= 0:
            return angle, offset, 0.0
        slope = float(((y_near - y_near.mean()) * (x_near - x_near.mean())).sum() / spread)
        offset = float(x_near.mean() - slope * y_near.mean())
    return math.degrees(math.atan(slope)), offset, float(run)


def _longest_run(rows: np.ndarray, max_gap: float = 6.0) -> tuple[float, float]:
    """First and last row of the longest stretch of rows without a gap wider than max_gap."""
    unique = np.unique(rows)
    breaks = np.nonzero(np.diff(unique) > max_gap)[0]
    starts = np.concatenate([[0], breaks + 1])
    ends = np.concatenate([breaks, [unique.size - 1]])
    longest = int(np.argmax(unique[ends] - unique[starts]))
    return float(unique[starts[longest]]), float(unique[ends[longest]])


def _roll_at_centre(lines: np.ndarray, height: int) -> tuple[float, float]:
    """Fit angle = roll + keystone * x over the lines; roll is the lean at the centre.

    A camera pointed up or down makes verticals lean apart with distance from the centre
    (keystone), so only the lean at the centre measures the camera's roll.
    """
    angles, positions, support = lines[:, 0], lines[:, 1], lines[:, 2]
    usable = np.abs(angles) < MAX_TILT_DEGREES - 0.5
    roll = 0.0
    for tolerance in (3.0, 1.5, 0.75):
        if support[usable].sum() < 0.5 * height:
            return 0.0, 0.0
        w, a, u = support[usable], angles[usable], positions[usable]
        # A ridge on the keystone term keeps lines on one side only from extrapolating wildly.
        ridge = 0.05 * w.sum()
        normal = np.array([[w.sum(), (w * u).sum()], [(w * u).sum(), (w * u * u).sum() + ridge]])
        roll, keystone = np.linalg.solve(normal, np.array([(w * a).sum(), (w * a * u).sum()]))
        usable = usable & (np.abs(angles - roll - keystone * positions) < tolerance)
    return float(roll), float(support[usable].sum())


def straighten(image: Image.Image, *, max_degrees: float = MAX_TILT_DEGREES) -> Image.Image:
    """Rotate so verticals are vertical (zooming so no wedge shows); level or unsure photos come back as they are."""
    try:
        return level(image, max_degrees=max_degrees)[0]
    except NothingToChange:
        return image


def level(image: Image.Image, *, max_degrees: float = MAX_TILT_DEGREES) -> tuple[Image.Image, float]:
    """(straightened image, degrees rotated clockwise); NothingToChange when the photo is level or the lean unsure."""
    tilt = measure_tilt(image)
    if not tilt.confident or abs(tilt.degrees) > max_degrees:
        raise NothingToChange(
            "Not enough long straight verticals to be sure the photo leans, so it was left as it was.")
    if abs(tilt.degrees) < MIN_CORRECTION_DEGREES:
        raise NothingToChange(
            f"The photo is already level (within {MIN_CORRECTION_DEGREES:.1f}°), so it was left as it was.")
    return rotate_and_fill(image, -tilt.degrees), tilt.degrees


def rotate_and_fill(image: Image.Image, degrees: float) -> Image.Image:
    """Rotate counter-clockwise by `degrees` and crop-zoom back to the same size in one resample."""
    width, height = image.size
    theta = math.radians(degrees)
    cos_t, sin_t = abs(math.cos(theta)), abs(math.sin(theta))
    # Largest same-aspect rectangle inside the rotated frame, as a fraction of the frame.
    scale = min(width / (width * cos_t + height * sin_t), height / (width * sin_t + height * cos_t))
    # Inverse map (output -> input) about the centre, as Image.rotate builds it, scaled by `scale`.
    a, b = math.cos(theta) * scale, -math.sin(theta) * scale
    cx, cy = width / 2.0, height / 2.0
    matrix = (a, b, cx - a * cx - b * cy, -b, a, cy + b * cx - a * cy)
    return image.transform(image.size, Image.Transform.AFFINE, matrix, resample=Image.Resampling.BICUBIC)
