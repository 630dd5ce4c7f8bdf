"""GenerationSpec: what a caller asked for, in one value built once from a form, a JSON body or a retry."""
from dataclasses import dataclass, field, replace


@dataclass(frozen=True)
class GenerationSpec:
    """A generation request as given: references may be ids or aliases; create_generation checks every field."""

    prompt: str | None = None
    preset: str | None = None
    references: list = field(default_factory=list)
    provider: str | None = None
    model: str | None = None
    priority: int = 0
    aspect_ratio: str | None = None
    resolution: str | None = None
    num_images: int = 1
    output_format: str | None = None
    watermark: str | bool | None = None
    flow_id: str | None = None
    alias: str | None = None
    flow_alias: str | None = None
    auto_enhance: bool = False
    meta: dict | None = None
    # Where to POST the result once the generation ends (checked by create_generation), and in which API's shape.
    callback_url: str | None = None
    surface: str = "v1"
    # Inpainting: a stored mask (white = change) that limits the edit to a region of the first reference.
    mask_key: str | None = None
    # An exact output size in pixels (pipelet's width and height): made at the nearest ratio offered, then fitted.
    width: int | None = None
    height: int | None = None
    # The surface is documented as an AI model (fal model ids, nanobanana, process-image): never the built-in engine.
    promises_ai: bool = False

    @classmethod
    def from_api(cls, body: dict) -> "GenerationSpec":
        """From a v1 API body (already checked against its JSON schema); legacy assign* names still work."""
        return cls(
            prompt=body.get("prompt"),
            preset=body.get("preset"),
            references=body.get("referenceImages") or [],
            provider=body.get("provider"),
            model=body.get("model"),
            priority=body.get("priority", 0),
            aspect_ratio=body.get("aspectRatio"),
            resolution=body.get("resolution"),
            num_images=body.get("numImages", 1),
            output_format=body.get("outputFormat"),
            watermark=body.get("watermark"),
            flow_id=body.get("flowId"),
            alias=body.get("alias", body.get("assignAlias")),
            flow_alias=body.get("flowAlias", body.get("assignFlowAlias")),
            auto_enhance=bool(body.get("autoEnhance")),
            meta=body.get("meta"),
            callback_url=body.get("callbackUrl"),
        )

    @classmethod
    def from_form(cls, form, image_id: str) -> "GenerationSpec":
        """From a photo page's form: a preset or a prompt applied to that photo, with output options."""
        return cls(
            prompt=form.get("prompt"),
            preset=form.get("preset") or None,
            references=[image_id],
            aspect_ratio=form.get("aspect_ratio") or None,
            resolution=form.get("resolution") or None,
            output_format=form.get("output_format") or None,
            watermark=_form_label(form.get("watermark")),
        )

    @classmethod
    def for_retry(cls, original, prompt: str | None = None, aspect_ratio: str | None = None) -> "GenerationSpec":
        """The request behind a finished generation, to run again (optionally with a new prompt or ratio)."""
        spec = cls(
            prompt=original.original_prompt or original.prompt,
            preset=original.preset,
            # The images the original used, as resolved then: an alias such as @upload may name another image now.
            references=list(original.reference_image_ids or []),
            model=original.model,
            priority=original.priority,
            aspect_ratio=original.aspect_ratio,
            resolution=original.resolution,
            num_images=original.num_images,
            output_format=original.output_format,
            watermark=original.watermark,
            flow_id=original.flow_id,
            auto_enhance=original.original_prompt is not None,
            meta=original.meta,
            callback_url=original.callback_url,
            surface=original.surface,
            mask_key=original.mask_key,
            width=original.target_width,
            height=original.target_height,
            promises_ai=original.promises_ai,
        )
        if prompt is not None:
            spec = replace(spec, prompt=prompt, auto_enhance=False)
        if aspect_ratio is not None:
            spec = replace(spec, aspect_ratio=aspect_ratio)
        return spec


def _form_label(value: str | None):
    """The page's label choice: automatic (None: staged rooms only), "off", or the label text for every result."""
    if value == "off":
        return False
    return value or None
