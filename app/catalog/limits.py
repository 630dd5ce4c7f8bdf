"""The limits and choices of a generation request, and the API's status words, each stated once.

The checks, the OpenAPI schemas, live URLs and the forms all read them from here. Resolutions live
with the pixels they stand for, in app/imaging/geometry.py.
"""

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
