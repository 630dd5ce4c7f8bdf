"""The preset catalogue and the free-text mapping onto the local engine."""

from __future__ import annotations

import pytest
from PIL import Image

from app.catalog.presets import (
    PRESETS,
    ROOM_TYPES,
    STAGING_ROOM_TYPES,
    PromptNotSupported,
    UnknownPreset,
    get_preset,
    operations_for_prompt,
    prompt_for,
    staging_prompt,
    with_preset_wording,
)
from app.imaging.pipeline import OPERATIONS, run_pipeline, validate_steps

LOCAL = [preset for preset in PRESETS.values() if preset.local_pipeline is not None]
STYLES = ["modern", "scandinavian", "farmhouse", "coastal", "mid-century", "industrial", "luxury"]
REQUIRED = ["enhance", "hdr-interior", "brighten-dark-room", "straighten", "blue-sky", "green-lawn",
            "day-to-dusk", "declutter", "empty-room", "paint-walls", "renovation-preview",
            *(f"virtual-staging-{style}" for style in STYLES)]


def test_catalogue_has_every_required_preset():
    assert set(REQUIRED) <= set(PRESETS)


@pytest.mark.parametrize("preset_id", ["declutter", "empty-room", "paint-walls", "renovation-preview",
                                       *(f"virtual-staging-{style}" for style in STYLES)])
def test_generative_presets_need_an_ai_provider(preset_id):
    preset = get_preset(preset_id)
    assert preset.local_pipeline is None and preset.needs_ai_provider


@pytest.mark.parametrize("preset", LOCAL, ids=lambda preset: preset.id)
def test_every_local_pipeline_names_real_operations(preset):
    assert not preset.needs_ai_provider
    validate_steps(list(preset.local_pipeline))
    assert all(name in OPERATIONS for name, _ in preset.local_pipeline)


@pytest.mark.parametrize("preset", LOCAL, ids=lambda preset: preset.id)
def test_every_local_pipeline_runs_on_a_small_image(photo, preset):
    image = photo("exterior_02.jpg", 320)
    result = run_pipeline(image, list(preset.local_pipeline))
    assert result.size == image.size and result.mode == "RGB"


def test_every_preset_is_complete():
    for preset in PRESETS.values():
        assert preset.name and preset.description and preset.prompt
        assert preset.kind == "edit"
        assert preset.room_types and set(preset.room_types) <= set(ROOM_TYPES)
        assert "{" not in preset.prompt, "prompts go to providers as they are"


def test_unknown_preset_lists_valid_ids():
    with pytest.raises(UnknownPreset) as error:
        get_preset("make-it-pop")
    assert isinstance(error.value, ValueError)
    assert "enhance" in str(error.value) and "virtual-staging-coastal" in str(error.value)


@pytest.mark.parametrize("room", STAGING_ROOM_TYPES)
def test_staging_prompt_names_the_room_and_style(room):
    text = staging_prompt("farmhouse", room)
    assert f"empty {room} " in text and "farmhouse" in text


def test_prompt_for_fills_the_room_type_and_rejects_others():
    preset = get_preset("virtual-staging-modern")
    assert "empty office" in prompt_for(preset, "office")
    assert prompt_for(preset) == preset.prompt
    with pytest.raises(ValueError, match="not one of"):
        prompt_for(preset, "garage")
    with pytest.raises(ValueError, match="Unknown staging style"):
        staging_prompt("baroque", "bedroom")


@pytest.mark.parametrize("prompt, expected", [
    ("Make it brighter please", ["auto_exposure"]),
    ("brighten the room and straighten the walls", ["straighten", "auto_exposure"]),
    ("Give it a blue sky", ["blue_sky"]),
    ("turn this into a twilight shot", ["day_to_dusk"]),
    ("DUSK", ["day_to_dusk"]),
    ("green lawn and a bit sharper", ["green_lawn", "sharpen"]),
    ("fix the white balance", ["white_balance"]),
    ("enhance", ["enhance"]),
    ("HDR look", ["balance_light"]),
])
def test_free_text_maps_to_local_operations(prompt, expected):
    steps = operations_for_prompt(prompt)
    assert [name for name, _ in steps] == expected
    validate_steps(steps)


def test_unmappable_prompt_is_refused_with_what_the_engine_can_do():
    with pytest.raises(PromptNotSupported) as refusal:
        operations_for_prompt("add a velvet sofa and a fireplace")
    message = str(refusal.value)
    assert isinstance(refusal.value, ValueError)
    assert "AI provider" in message and "straighten" in message and "day to dusk" in message


def test_mapped_steps_are_fresh_copies():
    first = operations_for_prompt("brighter")
    first[0][1]["target"] = 0.9
    assert operations_for_prompt("brighter")[0][1]["target"] == 0.5


def test_operations_from_prompt_run(photo):
    image = photo("exterior_02.jpg", 320)
    assert run_pipeline(image, operations_for_prompt("straighten, brighter, blue sky")).size == image.size


def test_local_pipeline_of_image_with_alpha_keeps_alpha():
    image = Image.new("RGBA", (64, 64), (100, 120, 140, 200))
    assert run_pipeline(image, list(get_preset("enhance").local_pipeline)).mode == "RGBA"


@pytest.mark.parametrize("prompt, cannot", [
    ("brighter and add a vase of flowers", "cannot add objects"),
    ("brighten the room, remove the sofa", "cannot remove objects"),
    ("brighten the room by adding lamps", "cannot add objects"),
    ("straighten it and repaint the walls", "cannot repaint"),
])
def test_a_prompt_the_engine_understands_only_in_part_is_refused_whole(prompt, cannot):
    """Issue 21: 'brighter and add a vase of flowers' was brightened, charged and marked Done, the vase ignored."""
    with pytest.raises(PromptNotSupported) as refusal:
        operations_for_prompt(prompt)
    message = str(refusal.value)
    assert cannot in message and "connect an AI service or choose a preset" in message


@pytest.mark.parametrize("prompt", ["brighten the room, keep everything else as it is", "make it shine",
                                    "Replace the sky with a clear blue one", "please straighten and sharpen"])
def test_a_prompt_wholly_within_the_engine_still_runs(prompt):
    assert operations_for_prompt(prompt)


def test_a_callers_words_are_added_to_the_presets_prompt_never_replacing_it():
    staging = get_preset("virtual-staging-scandinavian")
    combined = with_preset_wording(staging, "stage this living room, Scandinavian")
    assert combined.startswith("stage this living room, Scandinavian. ") and staging.prompt in combined
    assert "Keep the walls, windows" in combined
    assert with_preset_wording(staging, combined) == combined  # a retry does not say it twice
    room_prompt = staging_prompt("scandinavian", "bedroom")  # the studio's own room-specific wording
    assert with_preset_wording(staging, room_prompt) == room_prompt
