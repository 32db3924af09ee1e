"""The published rules a delivered video is checked against, per platform, in one place.

The caption rules (timing, reading speed, line length, the portrait players' buttons) are
the cue builder's own, in text/caption_rules.py; YouTube's chapter rules are chapters.py's;
what only a delivery check asks (platforms, loudness, A/V, bitrate floors) is here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

from personaforge.text.caption_rules import PORTRAIT_BOTTOM, PORTRAIT_BUTTONS_RIGHT

Platform = Literal["youtube", "shorts", "tiktok", "instagram"]
PLATFORMS: Final = ("youtube", "shorts", "tiktok", "instagram")

# Burned text stays inside the title-safe area: 5% in from every edge (EBU R 95's 90%).
TITLE_SAFE: Final = 0.05

# ---------------------------------------------------------------- loudness, A/V
LOUDNESS_LUFS: Final = -14.0  # YouTube, Spotify, TikTok normalise to about -14 LUFS
LOUDNESS_TOLERANCE_LU: Final = 1.0
TRUE_PEAK_DBTP: Final = -1.0
# The audio may outlast the last frame by the AAC frame it ends in (1024 samples, 21 ms).
AV_TOLERANCE_S: Final = 0.034


@dataclass(frozen=True)
class PlatformRules:
    name: Platform
    aspects: tuple[tuple[int, int], ...]  # the frame shapes it takes (width:height); () any
    chapters: bool  # the platform shows chapters
    max_duration_s: float | None
    # Where the platform's own buttons and text cover the picture (fractions of the frame),
    # which burned captions must stay clear of.
    safe_right: float = 0.0
    safe_bottom: float = 0.0


RULES: Final[dict[str, PlatformRules]] = {
    "youtube": PlatformRules("youtube", aspects=(), chapters=True, max_duration_s=None),
    # The portrait players' action buttons take the right ~12%, their title and channel
    # the bottom fifth (caption_rules' figures, which the cue builder keeps clear).
    "shorts": PlatformRules(
        "shorts", aspects=((9, 16),), chapters=False, max_duration_s=180.0,
        safe_right=PORTRAIT_BUTTONS_RIGHT, safe_bottom=PORTRAIT_BOTTOM,
    ),
    "tiktok": PlatformRules(
        "tiktok", aspects=((9, 16),), chapters=False, max_duration_s=600.0,
        safe_right=PORTRAIT_BUTTONS_RIGHT, safe_bottom=PORTRAIT_BOTTOM,
    ),
    "instagram": PlatformRules(
        # Reels are 9:16; the feed takes 4:5 and 1:1 too.
        "instagram", aspects=((9, 16), (4, 5), (1, 1)), chapters=False, max_duration_s=180.0,
        safe_right=PORTRAIT_BUTTONS_RIGHT, safe_bottom=PORTRAIT_BOTTOM,
    ),
}  # fmt: skip

# A master's video comes in under the bitrate x264 was given where frames need fewer bits
# at its best quality (flat drawing, title cards): down to this share of it is a pass.
MIN_BITRATE_SHARE: Final = 0.6
# AAC-LC stereo at less than this is audibly thin (YouTube recommends 384 kb/s; ffmpeg's AAC
# encoder spends less on speech than it is given).
MIN_AUDIO_KBPS: Final = 96
