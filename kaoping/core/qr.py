"""QR codes drawn on the server as inline SVG (deployments are often offline: no CDN, no JS)."""

import io

import segno
from django.utils.safestring import mark_safe


def qr_svg(text: str, scale: int = 4, *, omitsize: bool = False) -> str:
    """An inline SVG QR code of `text` (error correction M: a worn card or a creased sheet still
    scans). The household points card, the rater codes and a meeting's sign-in code use it.
    `omitsize`: no fixed size, only a viewBox, so it fills its box (big on a projector)."""
    buffer = io.BytesIO()
    segno.make(text, error="m").save(
        buffer,
        kind="svg",
        scale=scale,
        xmldecl=False,
        svgns=True,
        nl=False,
        border=2,
        omitsize=omitsize,
    )
    return mark_safe(buffer.getvalue().decode())  # noqa: S308 - segno's own SVG, no user text
