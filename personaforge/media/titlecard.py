"""Title cards: a heading drawn with ffmpeg's drawtext on the persona's colours."""

from __future__ import annotations

import tempfile
import textwrap
from pathlib import Path

from personaforge.assets import font_path
from personaforge.captions import drawable
from personaforge.core.models import Look
from personaforge.media import ffmpeg
from personaforge.media.encoding import INTERMEDIATE_VIDEO_ARGS
from personaforge.progress import Progress
from personaforge.text.escape import filter_value


def render_title_card(
    text: str,
    look: Look,
    *,
    width: int,
    height: int,
    fps: int,
    frames: int,
    out: Path,
    progress: Progress,
) -> None:
    font_size = max(12, int(min(width, height) / 11))
    chars = max(8, int(width * 0.8 / (font_size * 0.6)))
    shown = drawable(text)  # leave out what the bundled font would draw as boxes
    wrapped = "\n".join(textwrap.wrap(shown, chars, break_long_words=True)) or " "
    bg = look.background.lstrip("#")
    accent = look.accent.lstrip("#")
    bar_h = max(2, height // 90)
    with tempfile.TemporaryDirectory(prefix="personaforge-title-") as tmp:
        # drawtext reads the heading from a file, so no character of it needs escaping.
        text_file = Path(tmp) / "title.txt"
        text_file.write_text(wrapped, encoding="utf-8")
        graph = (
            f"color=c=0x{bg}:s={width}x{height}:r={fps},format=yuv420p,"
            f"drawbox=x=(iw-iw*0.3)/2:y=ih*0.68:w=iw*0.3:h={bar_h}:color=0x{accent}:t=fill,"
            f"drawtext=fontfile={filter_value(str(font_path()))}"
            f":textfile={filter_value(str(text_file))}"
            f":fontsize={font_size}:fontcolor=white:line_spacing={font_size // 4}"
            f":text_align=C:x=(w-text_w)/2:y=(h-text_h)/2:expansion=none"
            f":shadowcolor=black@0.5:shadowx=2:shadowy=2"
        )
        ffmpeg.run(
            ["-f", "lavfi", "-i", graph, "-frames:v", str(frames), *INTERMEDIATE_VIDEO_ARGS,
             str(out)],
            duration_s=frames / fps,
            progress=progress,
            task="title card",
            what="drawing the title card failed",
        )  # fmt: skip
