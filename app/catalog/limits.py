"""The limits and choices of a generation request, and the API's status words, each stated once.

The checks, the OpenAPI schemas, live URLs and the forms all read them from here. Resolutions live
with the pixels they stand for, in app/imaging/geometry.py.
"""
import json

MAX_PROMPT_LENGTH = 4000
MAX_REFERENCE_IMAGES = 8
MAX_NUM_IMAGES = 4
MAX_WATERMARK_LENGTH = 60
MIN_PRIORITY, MAX_PRIORITY = -10, 10
OUTPUT_FORMATS = ("jpeg", "png", "webp")
DEFAULT_OUTPUT_FORMAT = OUTPUT_FORMATS[0]
# The ratios the forms offer; any width:height from 1:10 to 10:1 is accepted.
ASPECT_RATIOS = ("1:1", "4:3", "3:2", "16:9", "21:9", "4:5", "3:4", "2:3", "9:16")

# The v1 API's word for each status a generation goes through (by GenerationStatus value):
# callers see four, and a canceled generation reads as failed.
API_STATUS_WORDS = {
    "queued": "pending",
    "processing": "processing",
    "succeeded": "success",
    "failed": "failed",
    "canceled": "failed",
}
API_STATUSES = tuple(dict.fromkeys(API_STATUS_WORDS.values()))

PROMPT_REQUIRED = "Prompt is required"
PROMPT_TOO_LONG = f"Prompt is too long: keep it under {MAX_PROMPT_LENGTH} characters."
TOO_MANY_REFERENCES = f"At most {MAX_REFERENCE_IMAGES} reference images per generation."
NUM_IMAGES_RULE = f"numImages must be a whole number from 1 to {MAX_NUM_IMAGES}."
WATERMARK_RULE = f"watermark must be true or a label of at most {MAX_WATERMARK_LENGTH} characters."
PRIORITY_RULE = f"priority must be a whole number from {MIN_PRIORITY} to {MAX_PRIORITY} (larger runs sooner)."

MAX_FLOW_ALIASES = 200
# Request bodies nest at most this deep; deeper JSON is refused before it is parsed.
MAX_JSON_DEPTH = 32
# meta is free-form JSON kept with a record: small and shallow, so it cannot fill the database.
MAX_META_BYTES = 16 * 1024
MAX_META_DEPTH = 8
META_RULE = f"meta must be a JSON object of at most {MAX_META_BYTES // 1024} KB, nested at most {MAX_META_DEPTH} deep."


def json_depth(value) -> int:
    """How deep a parsed JSON value nests (a scalar is 0, [] or {} is 1)."""
    if isinstance(value, dict):
        return 1 + max((json_depth(item) for item in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((json_depth(item) for item in value), default=0)
    return 0


def meta_problem(meta) -> str | None:
    """What is wrong with a meta value (None when it is fine, or absent)."""
    if meta is None:
        return None
    if not isinstance(meta, dict) or json_depth(meta) > MAX_META_DEPTH:
        return META_RULE
    if len(json.dumps(meta, ensure_ascii=False).encode("utf-8", "surrogatepass")) > MAX_META_BYTES:
        return META_RULE
    return None
