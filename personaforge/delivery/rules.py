"""The published rules a delivered video is checked against, per platform, in one place.

The caption rules (Netflix's and the BBC's timed-text style guides) are the values the cue
builder is meant to follow; `personaforge check` reads them here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

Platform = Literal["youtube", "shorts", "tiktok", "instagram"]
PLATFORMS: Final = ("youtube", "shorts", "tiktok", "instagram")

# ---------------------------------------------------------------- captions (timed-text guides)
MIN_CUE_S: Final = 5 / 6  # Netflix: a cue stays up at least 5/6 of a second (20 frames at 24)
MIN_GAP_FRAMES: Final = 2  # Netflix: at least 2 frames between two cues
MAX_LINES: Final = 2
# Characters a line (Netflix: 42 for 16:9; the vertical formats' narrow frame takes fewer).
MAX_CHARS_LANDSCAPE: Final = 42
MAX_CHARS_PORTRAIT: Final = 26
# Characters a second, adults (Netflix: 20 for English adult programmes, 17 for children's;
# the vertical feeds are read at a glance, so the lower figure). A language's own ceiling
# (text/languages.py) wins where it is lower.
MAX_CPS_LANDSCAPE: Final = 20.0
MAX_CPS_PORTRAIT: Final = 17.0

# Burned text stays inside the title-safe area: 5% in from every edge (EBU R 95's 90%).
TITLE_SAFE: Final = 0.05

# ---------------------------------------------------------------- loudness, A/V
LOUDNESS_LUFS: Final = -14.0  # YouTube, Spotify, TikTok normalise to about -14 LUFS
LOUDNESS_TOLERANCE_LU: Final = 1.0
TRUE_PEAK_DBTP: Final = -1.0
# The audio may outlast the last frame by the AAC frame it ends in (1024 samples, 21 ms).
AV_TOLERANCE_S: Final = 0.034

# ---------------------------------------------------------------- chapters (YouTube)
MIN_CHAPTERS: Final = 3
MIN_CHAPTER_S: Final = 10.0


@dataclass(frozen=True)
class PlatformRules:
    name: Platform
    vertical: bool  # 9:16 only
    chapters: bool  # the platform shows chapters
    max_duration_s: float | None
    # Where the platform's own buttons and text cover the picture (fractions of the frame),
    # which burned captions must stay clear of.
    safe_right: float = 0.0
    safe_bottom: float = 0.0


RULES: Final[dict[str, PlatformRules]] = {
    "youtube": PlatformRules("youtube", vertical=False, chapters=True, max_duration_s=None),
    # The Shorts player's action buttons take the right ~12%, its title and channel the
    # bottom ~20%.
    "shorts": PlatformRules(
        "shorts", vertical=True, chapters=False, max_duration_s=180.0, safe_right=0.12,
        safe_bottom=0.20,
    ),
    "tiktok": PlatformRules(
        "tiktok", vertical=True, chapters=False, max_duration_s=600.0, safe_right=0.12,
        safe_bottom=0.20,
    ),
    "instagram": PlatformRules(
        "instagram", vertical=True, chapters=False, max_duration_s=180.0, safe_right=0.12,
        safe_bottom=0.20,
    ),
}  # fmt: skip

# A master's video comes in under the bitrate x264 was given where frames need fewer bits
# at its best quality (flat drawing, title cards): down to this share of it is a pass.
MIN_BITRATE_SHARE: Final = 0.6
# AAC-LC stereo at less than this is audibly thin (YouTube recommends 384 kb/s; ffmpeg's AAC
# encoder spends less on speech than it is given).
MIN_AUDIO_KBPS: Final = 96
