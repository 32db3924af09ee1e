"""A synthetic portrait drawn by code: a face the project may ship for its photo examples and
tests (no one's likeness, nothing fetched), which OpenCV's frontal-face cascade detects."""

from __future__ import annotations

from PIL import Image, ImageDraw, ImageFilter


def draw_portrait(
    width: int = 480,
    height: int = 600,
    *,
    face_width: float | None = None,
    center: tuple[float, float] | None = None,
    background: tuple[int, int, int] = (70, 90, 120),
    extra_faces: tuple[tuple[float, float, float], ...] = (),
) -> Image.Image:
    """An RGB head-and-shoulders portrait; ``extra_faces`` adds (cx, cy, face width) faces."""
    img = Image.new("RGB", (width, height), background)
    d = ImageDraw.Draw(img)
    cx, cy = center if center is not None else (width / 2, height * 0.46)
    fw = face_width if face_width is not None else width * 0.42
    _draw_face(d, cx, cy, fw, shoulders=True)
    for ecx, ecy, efw in extra_faces:
        _draw_face(d, ecx, ecy, efw, shoulders=False)
    # A slight blur takes the drawn edges closer to a camera's.
    return img.filter(ImageFilter.GaussianBlur(max(0.6, fw * 0.008)))


def _draw_face(d: ImageDraw.ImageDraw, cx: float, cy: float, fw: float, *, shoulders: bool) -> None:
    fh = fw * 1.3
    skin, shade, hair = (225, 175, 140), (205, 150, 115), (50, 35, 25)
    if shoulders:
        d.ellipse([cx - fw * 1.2, cy + fh * 0.55, cx + fw * 1.2, cy + fh * 1.9], fill=(40, 60, 110))
        d.rectangle([cx - fw * 0.22, cy + fh * 0.3, cx + fw * 0.22, cy + fh * 0.75], fill=shade)
    d.ellipse([cx - fw * 0.58, cy - fh * 0.62, cx + fw * 0.58, cy + fh * 0.2], fill=hair)
    d.ellipse([cx - fw / 2, cy - fh / 2, cx + fw / 2, cy + fh / 2], fill=skin)
    d.chord([cx - fw * 0.55, cy - fh * 0.62, cx + fw * 0.55, cy - fh * 0.05], 180, 360, fill=hair)
    ey = cy - fh * 0.05
    for side in (-1, 1):
        x = cx + side * fw * 0.2
        d.ellipse(
            [x - fw * 0.1, ey - fh * 0.035, x + fw * 0.1, ey + fh * 0.035], fill=(245, 245, 240)
        )
        d.ellipse(
            [x - fw * 0.045, ey - fh * 0.035, x + fw * 0.045, ey + fh * 0.035], fill=(60, 40, 30)
        )
        d.ellipse(
            [x - fw * 0.02, ey - fh * 0.015, x + fw * 0.02, ey + fh * 0.015], fill=(10, 10, 10)
        )
        d.line(
            [x - fw * 0.12, ey - fh * 0.09, x + fw * 0.12, ey - fh * 0.1],
            fill=(45, 30, 20),
            width=max(2, int(fw * 0.035)),
        )
    d.polygon(
        [(cx, ey + fh * 0.02), (cx - fw * 0.07, cy + fh * 0.17), (cx + fw * 0.07, cy + fh * 0.17)],
        fill=shade,
    )
    my = cy + fh * 0.29
    d.chord(
        [cx - fw * 0.17, my - fh * 0.04, cx + fw * 0.17, my + fh * 0.05], 0, 180, fill=(150, 60, 60)
    )
    d.line(
        [cx - fw * 0.17, my, cx + fw * 0.17, my], fill=(110, 40, 40), width=max(2, int(fw * 0.015))
    )
