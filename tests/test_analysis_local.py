"""The offline analyzer writes only what it measured or was told, grammatically and without repeating itself."""
import io
import re

from PIL import Image

from app.analysis import compliance
from app.analysis.local import describe
from app.catalog.rooms import resolve_room
from app.analysis.writing import parse_context
from app.imaging.measure import colour_name, measure
from tests.analysis_helpers import photo_with_phone_number
from tests.factories import photo_bytes

CONTEXT = parse_context({"address": "12 Oak Lane", "city": "Springfield", "bedrooms": "3",
                         "styleKeywords": "modern, airy", "brandVoice": "luxury"})
# Things a photo may show that the analyzer cannot see and must never claim.
INVENTED = re.compile(r"\b(sofa|island|granite|fireplace|pool|garden|view|hardwood|stainless)\b", re.IGNORECASE)


def _photo(name):
    return Image.open(io.BytesIO(photo_bytes(name)))


def test_context_is_woven_into_title_description_and_tags():
    text = describe(measure(_photo("kitchen_01.jpg")), "kitchen", CONTEXT, "kitchen_01.jpg")

    assert text["title"] == "Modern kitchen at 12 Oak Lane, Springfield"
    assert "3-bedroom" in text["description"] and "12 Oak Lane" in text["description"]
    assert {"springfield", "3 bedroom home", "modern", "modern kitchen"} <= set(text["seoTags"])
    assert text["filename"] == "modern-kitchen-12-oak-lane-springfield"


def test_without_a_room_type_it_says_photo_and_invents_nothing():
    text = describe(measure(_photo("living_01.jpg")), None, parse_context({}), "IMG_0042.jpg")

    assert "listing photo" in text["title"].lower() and "living" not in " ".join(map(str, text.values())).lower()
    for field in ("title", "alt", "caption", "description"):
        assert not INVENTED.search(text[field]), text[field]


def test_text_is_deterministic_grammatical_and_not_repetitive():
    measured = measure(_photo("bedroom_01.jpg"))
    first = describe(measured, "bedroom", CONTEXT, "bedroom_01.jpg")

    assert describe(measured, "bedroom", CONTEXT, "bedroom_01.jpg") == first
    assert len({first["title"], first["alt"], first["caption"]}) == 3
    for sentence in re.split(r"(?<=[.!?]) ", first["description"]):
        assert sentence[0].isupper() and sentence[-1] in ".!?"
    sentences = first["description"].split(". ")
    assert len(sentences) == len(set(sentences))
    assert not re.search(r"\b(\w+) \1\b", first["description"])  # no doubled words
    assert len(first["alt"]) <= 125


def test_room_type_comes_from_hint_then_stored_details_then_file_name():
    assert resolve_room("Primary bedroom", "kitchen_01.jpg", None) == "bedroom"
    assert resolve_room(None, "kitchen_01.jpg", {"roomType": "bathroom"}) == "bathroom"
    assert resolve_room(None, "dusk_exterior_01.jpg", {}) == "exterior"
    assert resolve_room(None, "IMG_0042.jpg", {}) is None


def test_measurements_name_colours_in_plain_words_and_find_tilt_and_darkness():
    assert colour_name((250, 250, 250)) == "white" and colour_name((40, 60, 160)) == "blue"
    assert measure(_photo("dark_living_01.jpg")).exposure == "dark"
    assert measure(_photo("tilted_kitchen_01.jpg")).tilt == "tilted"
    assert measure(_photo("kitchen_01.jpg")).orientation == "landscape"


def test_a_missing_compliance_model_reports_not_available(monkeypatch):
    monkeypatch.setattr(compliance, "_ocr_engine", lambda: None)
    monkeypatch.setattr(compliance, "_nsfw_classifier", lambda: None)

    result = compliance.check(Image.open(io.BytesIO(photo_with_phone_number())), 0.8)

    assert result["text"]["status"] == result["nsfw"]["status"] == "not available"
    assert any("not available" in warning for warning in result["warnings"])


def test_contact_details_are_found_in_read_text():
    found = compliance.find_contact_details(["Call555-867-5309", "jo@oakrealty.com", "www.oakrealty.com", "12 Oak Lane"])

    assert [f["kind"] for f in found] == ["phone number", "email address", "web address"]
