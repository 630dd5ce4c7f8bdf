"""Text drawn onto images: the "Virtually staged" label and the no-provider placeholder."""

from __future__ import annotations

from PIL import Image, ImageDraw, ImageFont

DEFAULT_LABEL = "Virtually staged"
PLACEHOLDER_TITLE = "PLACEHOLDER - no AI provider configured"  # ASCII: the default font has no dash glyph
_CORNERS = ("bottom-right", "bottom-left")


def watermark(image: Image.Image, *, text: str = DEFAULT_LABEL, corner: str = "bottom-right") -> Image.Image:
    """Label a bottom corner with white text on a semi-opaque dark box, legible on any photo."""
    text = " ".join(str(text).split())[:80]
    if not text:
        return image
    if corner not in _CORNERS:
        raise ValueError(f"Unknown label corner {corner!r}; use one of: {', '.join(_CORNERS)}.")
    font = ImageFont.load_default(size=max(12, round(image.width * 0.022)))
    left, top, right, bottom = font.getbbox(text)
    padding = max(4, font.size // 2)
    margin = max(4, round(image.width * 0.015))
    box_w, box_h = right - left + 2 * padding, bottom - top + 2 * padding
    x = image.width - margin - box_w if corner == "bottom-right" else margin
    y = image.height - margin - box_h
    layer = Image.new("RGBA", image.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    draw.rounded_rectangle((x, y, x + box_w, y + box_h), radius=padding // 2, fill=(0, 0, 0, 150))
    draw.text((x + padding - left, y + padding - top), text, font=font, fill=(255, 255, 255, 255))
    labelled = Image.alpha_composite(image.convert("RGBA"), layer)
    return labelled if image.mode == "RGBA" else labelled.convert("RGB")


def render_placeholder(prompt: str, width: int, height: int) -> Image.Image:
    """A neutral image showing the prompt, clearly marked as a placeholder, not an AI result."""
    if not (16 <= width <= 8192 and 16 <= height <= 8192):
        raise ValueError("Placeholder size must be between 16 and 8192 pixels on each side.")
    image = Image.new("RGB", (width, height), (226, 224, 219))
    draw = ImageDraw.Draw(image)
    margin = max(8, min(width, height) // 16)
    draw.rectangle((margin // 2, margin // 2, width - margin // 2, height - margin // 2), outline=(150, 146, 140),
                   width=max(1, min(width, height) // 200))
    title_font = ImageFont.load_default(size=max(10, width // 28))
    body_font = ImageFont.load_default(size=max(9, width // 40))
    usable = width - 2 * margin
    y = margin
    for line in _wrap(draw, PLACEHOLDER_TITLE, title_font, usable):
        draw.text((margin, y), line, font=title_font, fill=(120, 40, 30))
        y += round(title_font.size * 1.3)
    y += title_font.size // 2
    line_height = round(body_font.size * 1.35)
    lines = _wrap(draw, " ".join(str(prompt).split()) or "(empty prompt)", body_font, usable)
    room = max(0, (height - margin - y) // line_height)
    if len(lines) > room:
        lines = lines[:room]
        if lines:
            lines[-1] = lines[-1].rstrip(" .,") + "…"
    for line in lines:
        draw.text((margin, y), line, font=body_font, fill=(40, 40, 40))
        y += line_height
    return image


def _wrap(draw: ImageDraw.ImageDraw, text: str, font: ImageFont.FreeTypeFont, max_width: int) -> list[str]:
    """Greedy word wrap by measured width; words longer than a line are split."""
    lines: list[str] = []
    current = ""
    for word in text.split(" "):
        while draw.textlength(word, font=font) > max_width and len(word) > 1:
            cut = max(1, int(len(word) * max_width / draw.textlength(word, font=font)))
            if current:
                lines.append(current)
                current = ""
            lines.append(word[:cut])
            word = word[cut:]
        candidate = f"{current} {word}".strip()
        if draw.textlength(candidate, font=font) <= max_width:
            current = candidate
        else:
            lines.append(current)
            current = word
    if current:
        lines.append(current)
    return lines
