"""The bench's bare baseline encodes as the segments do: its command line is the segments'
settings (the same codec, GOP, B-frames, colour tags and rate control)."""

from __future__ import annotations

import pytest

from personaforge.media.encoding import final_video_args, gop_frames, segment_video


@pytest.mark.parametrize("quality", ["draft", "master"])
def test_the_bare_encode_takes_the_segments_settings(quality: str) -> None:
    args = final_video_args(quality, 1920, 1080, 30)  # type: ignore[arg-type]
    pairs = dict(zip(args[::2], args[1::2], strict=True))
    settings = segment_video(quality, 1920, 1080, 30)  # type: ignore[arg-type]
    assert pairs["-c:v"] == "libx264" and pairs["-g"] == str(gop_frames(30)) == "15"
    assert pairs["-colorspace"] == str(settings["colorspace"])
    assert ("-crf" in pairs) == (quality == "draft") and ("-b:v" in pairs) == (quality == "master")
    # What only a segment needs (no audio of its own, its timescale for the join) is left out.
    assert "-an" not in pairs and "-video_track_timescale" not in pairs
