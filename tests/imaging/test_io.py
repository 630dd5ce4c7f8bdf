"""Decoding untrusted uploads and encoding results without metadata."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from app.imaging.errors import ImageRejected
from app.imaging.io import DecodedPhoto, encode_image, load_photo, make_thumbnail

LIMIT = 40_000_000


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def _jpeg(image: Image.Image, **params) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90, **params)
    return buffer.getvalue()


def test_truncated_jpeg_is_rejected_with_reexport_advice(photo_bytes):
    with pytest.raises(ImageRejected, match="truncated or corrupt"):
        load_photo(photo_bytes("truncated.jpg"), max_pixels=LIMIT)


def test_text_file_named_png_is_rejected_as_not_an_image(photo_bytes):
    with pytest.raises(ImageRejected, match="not a JPEG, PNG, WebP or HEIC"):
        load_photo(photo_bytes("not_an_image.png"), max_pixels=LIMIT)


def test_empty_upload_is_rejected():
    with pytest.raises(ImageRejected, match="empty"):
        load_photo(b"", max_pixels=LIMIT)


def test_gif_is_rejected_even_though_pillow_reads_it():
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), "red").save(buffer, "GIF")
    with pytest.raises(ImageRejected, match="not a JPEG, PNG, WebP or HEIC"):
        load_photo(buffer.getvalue(), max_pixels=LIMIT)


def test_exif_rotated_photo_comes_out_upright(photo_bytes):
    decoded = load_photo(photo_bytes("exif_rotated_bedroom_01.jpg"), max_pixels=LIMIT)
    upright = load_photo(photo_bytes("bedroom_01.jpg"), max_pixels=LIMIT)
    assert (decoded.width, decoded.height) == (1280, 853)
    difference = np.abs(np.asarray(decoded.image, dtype=np.float32) - np.asarray(upright.image, dtype=np.float32))
    assert difference.mean() < 3.0


def test_webp_is_accepted_with_its_mime_type(photo_bytes):
    decoded = load_photo(photo_bytes("kitchen_02.webp"), max_pixels=LIMIT)
    assert isinstance(decoded, DecodedPhoto)
    assert (decoded.mime, decoded.image.mode, decoded.width, decoded.height) == ("image/webp", "RGB", 960, 640)


def test_format_is_sniffed_from_content_not_name(photo_bytes):
    assert load_photo(photo_bytes("kitchen_01.jpg"), max_pixels=LIMIT).mime == "image/jpeg"
    assert load_photo(photo_bytes("too_large.png"), max_pixels=LIMIT).mime == "image/png"


def test_too_many_pixels_is_rejected_before_decoding_with_sizes_in_message(photo_bytes):
    with pytest.raises(ImageRejected) as rejected:
        load_photo(photo_bytes("too_large.png"), max_pixels=2_000_000)
    message = str(rejected.value)
    assert "1500×1500" in message and "2.2 megapixels" in message and "limit is 2 megapixels" in message


def test_huge_header_is_rejected_without_allocating_the_image():
    # A 20000x20000 PNG header with almost no data: must be refused from the header alone.
    with pytest.raises(ImageRejected, match="the limit is 40 megapixels"):
        load_photo(_png(Image.new("1", (20000, 20000))), max_pixels=LIMIT)


def test_grayscale_jpeg_becomes_rgb():
    decoded = load_photo(_jpeg(Image.linear_gradient("L").resize((64, 48))), max_pixels=LIMIT)
    assert decoded.image.mode == "RGB"
    assert decoded.image.getpixel((32, 47))[0] > 200


def test_cmyk_jpeg_becomes_rgb_with_the_right_colours():
    decoded = load_photo(_jpeg(Image.new("CMYK", (64, 64), (0, 255, 255, 0))), max_pixels=LIMIT)
    red, green, blue = decoded.image.getpixel((32, 32))
    assert decoded.image.mode == "RGB" and red > 200 and green < 60 and blue < 60


def test_sixteen_bit_png_is_scaled_not_clipped_to_white():
    ramp = (np.linspace(0, 65535, 64 * 64).reshape(64, 64)).astype(np.uint16)
    decoded = load_photo(_png(Image.fromarray(ramp)), max_pixels=LIMIT)
    values = np.asarray(decoded.image)[..., 0]
    assert decoded.image.mode == "RGB"
    assert values[0, 0] < 5 and values[32, 0] == pytest.approx(128, abs=3) and values[-1, -1] > 250


def test_palette_png_becomes_rgb():
    palette_image = Image.new("RGB", (32, 32), (10, 120, 200)).convert("P", palette=Image.Palette.ADAPTIVE)
    decoded = load_photo(_png(palette_image), max_pixels=LIMIT)
    assert decoded.image.mode == "RGB" and decoded.image.getpixel((5, 5)) == pytest.approx((10, 120, 200), abs=3)


def test_png_with_real_transparency_keeps_alpha():
    image = Image.new("RGBA", (32, 32), (200, 0, 0, 255))
    image.putpixel((0, 0), (0, 0, 0, 0))
    assert load_photo(_png(image), max_pixels=LIMIT).image.mode == "RGBA"


def test_png_with_opaque_alpha_drops_it():
    assert load_photo(_png(Image.new("RGBA", (32, 32), (200, 0, 0, 255))), max_pixels=LIMIT).image.mode == "RGB"


def test_grey_with_alpha_becomes_rgba():
    image = Image.new("LA", (32, 32), (128, 255))
    image.putpixel((1, 1), (0, 0))
    assert load_photo(_png(image), max_pixels=LIMIT).image.mode == "RGBA"


def test_sixteen_pixel_square_is_accepted():
    assert load_photo(_png(Image.new("RGB", (16, 16), "white")), max_pixels=LIMIT).width == 16


def test_side_under_sixteen_pixels_is_rejected():
    with pytest.raises(ImageRejected, match="at least 16 pixels"):
        load_photo(_png(Image.new("RGB", (15, 40))), max_pixels=LIMIT)


def test_extreme_aspect_ratio_is_rejected_clearly():
    with pytest.raises(ImageRejected, match="1000×20 pixels; its aspect ratio is beyond 10:1"):
        load_photo(_png(Image.new("RGB", (1000, 20))), max_pixels=LIMIT)


def test_decoded_photo_carries_no_metadata():
    exif = Image.Exif()
    exif[0x010F] = "Camera maker"
    decoded = load_photo(_jpeg(Image.new("RGB", (64, 64)), exif=exif.tobytes()), max_pixels=LIMIT)
    assert decoded.image.info == {}


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_encoded_output_has_no_exif_or_profile(fmt):
    exif = Image.Exif()
    exif[0x010F] = "Camera maker"
    exif[0x0132] = "2024:05:01 10:00:00"
    source = Image.new("RGB", (64, 64), (90, 100, 110))
    source.info.update({"exif": exif.tobytes(), "icc_profile": b"fake", "comment": b"secret"})
    reopened = Image.open(io.BytesIO(encode_image(source, fmt)))
    assert reopened.format == fmt
    assert len(reopened.getexif()) == 0
    assert not {"exif", "icc_profile", "comment"} & set(reopened.info)
    assert source.info["comment"] == b"secret", "the caller's image must not be altered"


def test_jpeg_of_transparent_image_is_flattened_onto_white():
    image = Image.new("RGBA", (32, 32), (0, 0, 0, 0))
    reopened = Image.open(io.BytesIO(encode_image(image, "JPEG")))
    assert reopened.mode == "RGB" and min(reopened.getpixel((16, 16))) > 245


def test_png_output_keeps_transparency():
    image = Image.new("RGBA", (32, 32), (0, 0, 0, 0))
    assert Image.open(io.BytesIO(encode_image(image, "PNG"))).mode == "RGBA"


def test_unknown_output_format_is_a_value_error():
    with pytest.raises(ValueError, match="JPEG, PNG or WEBP"):
        encode_image(Image.new("RGB", (16, 16)), "BMP")


def test_thumbnail_fits_long_side_and_keeps_aspect(photo):
    thumb = make_thumbnail(photo("kitchen_01.jpg", None), long_side=480)
    assert thumb.size == (480, 320)


def test_thumbnail_never_upscales():
    assert make_thumbnail(Image.new("RGB", (100, 50)), long_side=480).size == (100, 50)
