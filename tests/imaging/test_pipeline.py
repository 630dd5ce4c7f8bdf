"""Running named operations with progress reports."""

from __future__ import annotations

import pytest
from PIL import Image

from app.imaging.pipeline import OPERATIONS, STEP_MESSAGES, run_pipeline


def test_progress_is_reported_before_each_step_with_human_messages(photo):
    calls = []
    run_pipeline(photo("kitchen_02.jpg", 400), [("white_balance", {}), ("auto_exposure", {}), ("sharpen", {})],
                 on_step=lambda done, total, message: calls.append((done, total, message)))
    assert calls == [(0, 3, "Balancing white"), (1, 3, "Correcting exposure"), (2, 3, "Sharpening")]


def test_unknown_operation_is_a_value_error_before_any_work():
    calls = []
    with pytest.raises(ValueError, match="Unknown imaging operation 'teleport'"):
        run_pipeline(Image.new("RGB", (64, 64)), [("sharpen", {}), ("teleport", {})],
                     on_step=lambda *args: calls.append(args))
    assert calls == []


def test_wrong_parameter_is_a_value_error():
    with pytest.raises(ValueError, match="Bad parameters for imaging operation 'sharpen'"):
        run_pipeline(Image.new("RGB", (64, 64)), [("sharpen", {"radius_of_doom": 3})])


def test_steps_compose_in_order():
    image = Image.new("RGB", (1600, 1000), (120, 110, 100))
    result = run_pipeline(image, [("crop", {"aspect_ratio": "1:1"}), ("resize", {"resolution": "1K"})])
    assert result.size == (1024, 1024)


def test_every_operation_has_a_progress_message():
    assert set(OPERATIONS) == set(STEP_MESSAGES)


def test_pipeline_returns_input_type_for_empty_steps():
    image = Image.new("RGB", (32, 32))
    assert run_pipeline(image, []) is image
