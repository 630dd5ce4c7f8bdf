"""The preset catalogue page: every preset, with a real before/after for the ones the local engine does."""
import io
import os

from PIL import Image as PILImage

from app.catalog.presets import PRESETS
from app.cli import render_samples
from app.providers import registry


def test_presets_page_lists_every_preset_with_before_after_for_local_ones(client):
    page = client.get("/presets").get_data(as_text=True)
    for preset in PRESETS.values():
        section = page.split(f'id="preset-{preset.id}"')[1].split("</article>")[0]
        if preset.needs_ai_provider:
            assert "needs an AI image service" in section and "<img-comparison-slider" not in section
        else:
            assert "<img-comparison-slider" in section and "1 credit per photo, done by the built-in engine" in section
    after_url = page.split('id="preset-day-to-dusk"')[1].split('slot="second" src="')[1].split('"')[0]
    after = client.get(after_url.replace("&amp;", "&"))
    assert after.status_code == 200
    assert PILImage.open(io.BytesIO(after.data)).format == "JPEG"


def test_sample_renders_are_cached_in_storage(client, app):
    client.get("/presets")
    samples_dir = app.config["STORAGE_DIR"] + "/samples"
    first = sorted(os.listdir(samples_dir))
    client.get("/presets")
    local_presets = [preset for preset in PRESETS.values() if not preset.needs_ai_provider]
    assert sorted(os.listdir(samples_dir)) == first and len(first) == 2 * len(local_presets)  # each with its preview


def test_apply_bar_shows_a_small_after_picture_of_each_built_in_preset_once_flask_up_rendered_them(
    app, logged_in, project
):
    def apply_bar() -> str:
        page = logged_in.get(f"/projects/{project.id}/studio").get_data(as_text=True)  # the listing page loads it
        return page.split('id="apply-choices"')[1].split("</fieldset>")[0]

    assert 'class="swatch preview"' not in apply_bar()  # a page never waits for samples to render: swatches till then
    render_samples(app)  # as `flask up` does beside its start-up

    bar = apply_bar()
    enhance = bar.split('value="preset:enhance"')[1].split("</label>")[0]
    preview_url = enhance.split('class="swatch preview" src="')[1].split('"')[0].replace("&amp;", "&")
    preview = PILImage.open(io.BytesIO(logged_in.get(preview_url).data))
    assert preview.size == (72, 48)
    staging = bar.split('value="staging"')[1].split("</label>")[0]
    assert "swatch-virtual-staging" in staging  # an AI-only choice has no built-in sample


def test_presets_page_says_who_does_each_ai_preset_and_its_price_once_a_service_is_connected(app, client, fal_queue):
    app.config.update(FAL_KEY="test-fal-key", FAL_QUEUE_URL=fal_queue.url)
    registry.configure(app)
    page = client.get("/presets").get_data(as_text=True)
    staging = page.split('id="preset-virtual-staging-scandinavian"')[1].split("</article>")[0]
    assert "4 credits per photo, done by fal.ai" in staging
    enhance = page.split('id="preset-enhance"')[1].split("</article>")[0]
    assert "done by the built-in engine" in enhance
