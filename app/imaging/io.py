"""Decode untrusted photo bytes into a working image, and encode results without metadata."""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

import numpy as np
import pillow_heif
from PIL import ExifTags, Image, ImageCms, ImageOps, UnidentifiedImageError

from app.imaging.errors import ImageRejected

# Phones (iPhones above all) save HEIC; Pillow reads it once pillow-heif's opener is registered.
pillow_heif.register_heif_opener()

# Pillow reports multi-picture JPEGs (common from phones) as MPO; they are JPEGs to a person.
_MIME_BY_FORMAT = {
    "JPEG": "image/jpeg", "MPO": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "HEIF": "image/heic",
}
_ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP", "HEIF")
_ENCODE_FORMATS = {"JPEG": "JPEG", "JPG": "JPEG", "PNG": "PNG", "WEBP": "WEBP"}
MIN_SIDE = 16
MAX_ASPECT = 10.0

NOT_AN_IMAGE = "The file is not a JPEG, PNG, WebP or HEIC image."
_CORRUPT = "The image file is truncated or corrupt; please re-export it and upload again."


@dataclass(frozen=True)
class DecodedPhoto:
    """A fully decoded, upright photo in RGB (or RGBA when it has real transparency)."""

    image: Image.Image
    mime: str

    @property
    def width(self) -> int:
        return self.image.width

    @property
    def height(self) -> int:
        return self.image.height


def load_photo(data: bytes, *, max_pixels: int) -> DecodedPhoto:
    """Sniff, validate and fully decode photo bytes; raise ImageRejected with an actionable message."""
    if not data:
        raise ImageRejected("The file is empty.")
    image = _open_header(data, max_pixels)
    mime = _MIME_BY_FORMAT.get(image.format or "")
    if mime is None:
        raise ImageRejected(NOT_AN_IMAGE)
    _check_dimensions(image.width, image.height, max_pixels)
    try:
        image.load()
    except Exception as exc:  # any decoder failure means the bytes are unusable
        raise ImageRejected(_CORRUPT) from exc
    working = _to_working_mode(_to_srgb(_apply_exif_orientation(image)))
    # Metadata (EXIF with GPS, comments, profiles) stays behind; results must never carry it.
    working.info = {}
    return DecodedPhoto(image=working, mime=mime)


def _open_header(data: bytes, max_pixels: int) -> Image.Image:
    """Read only the header; Pillow's own bomb limit is a backstop behind our max_pixels check."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            return Image.open(io.BytesIO(data), formats=_ACCEPTED_FORMATS)
    except Image.DecompressionBombError as exc:
        bomb_limit = 2 * (Image.MAX_IMAGE_PIXELS or 0)
        raise ImageRejected(
            f"The image has over {_megapixels(bomb_limit)} megapixels; the limit is "
            f"{_megapixels(max_pixels)} megapixels. Please resize it and upload again."
        ) from exc
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise ImageRejected(NOT_AN_IMAGE) from exc


def _check_dimensions(width: int, height: int, max_pixels: int) -> None:
    pixels = width * height
    if pixels > max_pixels:
        raise ImageRejected(
            f"The image is {width}×{height} pixels ({_megapixels(pixels)} megapixels); "
            f"the limit is {_megapixels(max_pixels)} megapixels. Please resize it and upload again."
        )
    if min(width, height) < MIN_SIDE:
        raise ImageRejected(
            f"The image is {width}×{height} pixels; each side must be at least {MIN_SIDE} pixels."
        )
    if max(width, height) / min(width, height) > MAX_ASPECT:
        raise ImageRejected(
            f"The image is {width}×{height} pixels; its aspect ratio is beyond "
            f"{MAX_ASPECT:g}:1, which is not a photo we can work with. Please crop it."
        )


def _megapixels(pixels: int) -> str:
    value = pixels / 1_000_000
    return f"{value:.0f}" if value >= 10 else f"{value:.1f}".rstrip("0").rstrip(".")


def _apply_exif_orientation(image: Image.Image) -> Image.Image:
    try:
        if image.getexif().get(ExifTags.Base.Orientation, 1) == 1:
            return image  # exif_transpose would copy the whole image for nothing
        return ImageOps.exif_transpose(image)
    except Exception:  # malformed EXIF should not cost the user their photo
        return image


def _to_srgb(image: Image.Image) -> Image.Image:
    """Convert from an embedded colour profile (e.g. Display P3) because outputs carry no profile."""
    icc = image.info.get("icc_profile")
    if not icc or image.mode not in ("RGB", "RGBA", "CMYK"):
        return image
    out_mode = "RGBA" if image.mode == "RGBA" else "RGB"
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        return ImageCms.profileToProfile(image, source, ImageCms.createProfile("sRGB"), outputMode=out_mode)
    except Exception:  # a broken profile is better ignored than fatal
        return image


def _to_working_mode(image: Image.Image) -> Image.Image:
    """Return RGB, or RGBA only when some pixel is actually transparent."""
    mode = image.mode
    if mode.startswith("I"):
        image = _sixteen_bit_to_l(image)
    elif mode == "CMYK" or mode in ("1", "L", "RGBX", "YCbCr", "LAB", "HSV"):
        image = image.convert("RGB")
    if image.mode in ("LA", "PA", "La", "RGBa") or (image.mode in ("P", "L") and "transparency" in image.info):
        image = image.convert("RGBA")
    elif image.mode not in ("RGB", "RGBA"):
        image = image.convert("RGB")
    if image.mode == "RGBA" and image.getchannel("A").getextrema() == (255, 255):
        image = image.convert("RGB")
    return image


def _sixteen_bit_to_l(image: Image.Image) -> Image.Image:
    """Scale 16-bit grey (PNG opens it as I or I;16) to 8 bits; Pillow's convert would clip it."""
    values = np.asarray(image).astype(np.float32) / 257.0
    return Image.fromarray(np.clip(values + 0.5, 0, 255).astype(np.uint8), "L").convert("RGB")


def encode_image(image: Image.Image, fmt: str = "JPEG", *, quality: int = 90) -> bytes:
    """Encode as JPEG, PNG or WEBP with no EXIF, ICC or text metadata."""
    pil_format = _ENCODE_FORMATS.get(fmt.upper())
    if pil_format is None:
        raise ValueError(f"Unsupported output format {fmt!r}; use JPEG, PNG or WEBP.")
    clean = _flatten_for(image, pil_format)
    if clean.info:
        # Savers read EXIF, ICC and comments from .info; copy rather than alter the caller's image.
        clean = clean.copy() if clean is image else clean
        clean.info = {}
    buffer = io.BytesIO()
    if pil_format == "PNG":
        clean.save(buffer, "PNG", compress_level=6)
    else:
        clean.save(buffer, pil_format, quality=quality)
    return buffer.getvalue()


def _flatten_for(image: Image.Image, pil_format: str) -> Image.Image:
    """JPEG has no alpha, so transparent areas go onto white rather than black."""
    has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    if pil_format == "JPEG" and has_alpha:
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    if has_alpha:
        return image if image.mode == "RGBA" else image.convert("RGBA")
    return image if image.mode in ("RGB", "L") else image.convert("RGB")


def make_thumbnail(image: Image.Image, *, long_side: int = 480) -> Image.Image:
    """Return a copy no larger than long_side on its longer edge (never upscaled)."""
    thumb = image.copy()
    thumb.thumbnail((long_side, long_side), Image.Resampling.LANCZOS, reducing_gap=3.0)
    return thumb
