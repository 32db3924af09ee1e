"""The filter graphs: segments encoded from each source, joined by stream copy, loudness."""

from __future__ import annotations

import itertools
import subprocess
import wave
from pathlib import Path

import av
import numpy as np
import pytest

from personaforge.assets import font_path
from personaforge.errors import PersonaForgeError
from personaforge.media import ffmpeg, filtergraph
from personaforge.media.cards import title_card
from personaforge.media.filtergraph import (
    ClipFile,
    FramePipe,
    Loudness,
    LoudnessTarget,
    SegmentSpec,
    TitleCard,
)
from personaforge.text.escape import filter_value

W, H, FPS = 64, 48, 30


def _frames(n: int, shade: int) -> list[bytes]:
    return [bytes([shade, (i * 8) % 256, 255 - shade]) * (W * H) for i in range(n)]


def _segment(out: Path, n: int, shade: int) -> Path:
    args = filtergraph.segment_args(SegmentSpec(FramePipe(), W, H, FPS, n), out)
    ffmpeg.pipe_frames(_frames(n, shade), args, n_frames=n)
    return out


def _tone(path: Path, seconds: float, amplitude: float = 0.3) -> None:
    rate = 22050
    t = np.arange(int(rate * seconds)) / rate
    # Speech-like: bursts of a tone with gaps, so it has peaks well over its loudness.
    envelope = (np.sin(2 * np.pi * 1.5 * t) > 0.2).astype(float)
    samples = (amplitude * envelope * np.sin(2 * np.pi * 330 * t) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples.tobytes())


def test_segments_of_odd_lengths_join_with_no_timestamp_gap(tmp_path: Path) -> None:
    """31, 32 and 34 frames: durations no container rounds to whole milliseconds."""
    lengths = (31, 32, 34)
    segments = [_segment(tmp_path / f"s{i}.mp4", n, 60 * i) for i, n in enumerate(lengths)]
    listing = tmp_path / "list.txt"
    listing.write_text(
        filtergraph.concat_list([(p.name, n / FPS) for p, n in zip(segments, lengths, strict=True)])
    )
    narration = tmp_path / "n.wav"
    total = sum(lengths) / FPS
    _tone(narration, total - 0.2)  # shorter than the video: padded to its end
    track = tmp_path / "track.m4a"
    ffmpeg.run(filtergraph.soundtrack_args(narration, None, total, 0.0, track))
    out = tmp_path / "out.mp4"
    ffmpeg.run(filtergraph.assembly_args(listing, track, out), cwd=tmp_path)
    with av.open(str(out)) as container:
        stream = container.streams.video[0]
        pts = [f.pts for f in container.decode(stream)]
        step = round(1 / (FPS * stream.time_base))
        audio = container.streams.audio[0]
        assert audio.duration is not None
        audio_s = float(audio.duration * audio.time_base)
    assert len(pts) == sum(lengths)
    assert {b - a for a, b in itertools.pairwise(pts)} == {step}
    assert audio_s == pytest.approx(total, abs=0.03)


def test_a_clip_and_a_title_card_become_segments_of_exact_length(tmp_path: Path) -> None:
    clip = _segment(tmp_path / "clip.mp4", 40, 10)
    card = tmp_path / "it's: a [title], ok; 100%.png"
    title_card("A title: with, odd [chars]; 100% \\ 'quoted'", (W, H), font_file=font_path(),
               background="#112233", accent="#ffcc00").save(card)  # fmt: skip
    short = _segment(tmp_path / "short.mp4", 10, 90)  # a clip shorter than its shot
    sources = [
        ClipFile(clip),
        ClipFile(short),
        TitleCard(card),
    ]
    for i, source in enumerate(sources):
        out = tmp_path / f"seg{i}.mp4"
        ffmpeg.run(filtergraph.segment_args(SegmentSpec(source, W, H, FPS, 25), out))
        with av.open(str(out)) as container:
            stream = container.streams.video[0]
            frames = list(container.decode(stream))
            assert len(frames) == 25
            assert stream.codec_context.profile == "High"
            assert frames[0].key_frame


def test_lavfi_sources_escape_their_options() -> None:
    # Each value is escaped by the one filtergraph escaper (checked against ffmpeg with
    # quotes, colons, brackets and the rest in tests/text/test_escape.py) ...
    assert filtergraph.lavfi("x", v="a:b,c") == "x=v=" + filter_value("a:b,c")
    # ... and ffmpeg reads the source as asked: its colour, size and length.
    source = filtergraph.lavfi("color", c="0x112233", s="64x48", r=10, d=0.3)
    run = subprocess.run(
        [ffmpeg.ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i", source,
         "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
        capture_output=True, check=True,
    )  # fmt: skip
    frames = np.frombuffer(run.stdout, np.uint8).reshape(-1, 48, 64, 3)
    assert len(frames) == 3
    assert np.abs(frames.astype(int) - [0x11, 0x22, 0x33]).max() <= 2


def test_loudness_target_limits_peaks_only_when_the_gain_needs_it() -> None:
    target = LoudnessTarget(-14.0, -1.0)
    quiet_peaky = Loudness(-22.0, -3.0)  # +8 dB would put peaks at +5 dBTP
    ceiling = target.ceiling(quiet_peaky)
    assert ceiling is not None and ceiling + 8.0 <= -1.0
    assert target.ceiling(Loudness(-15.0, -6.0)) is None  # +1 dB leaves peaks at -5
    assert target.gain_db(Loudness(-15.0, -6.0)) == pytest.approx(1.0)
    # Loudness gives way to the peak ceiling.
    assert target.gain_db(Loudness(-20.0, -2.0)) == pytest.approx(-1.5 - -2.0)
    assert target.shortfall_db(Loudness(-20.0, -2.0)) == pytest.approx(5.5)
    assert target.gain_db(Loudness(float("-inf"), float("-inf"))) == 0.0


def test_parse_loudness_reads_the_last_summary() -> None:
    log = (
        "Summary:\n I: -30.0 LUFS\n Peak: -9.0 dBFS\n"
        "...Summary:\n  I:  -20.5 LUFS\n  Peak:  -2.5 dBFS\n"
    )
    assert filtergraph.parse_loudness(log) == Loudness(-20.5, -2.5)
    with pytest.raises(PersonaForgeError, match="no summary"):
        filtergraph.parse_loudness("nothing here")


@pytest.mark.parametrize("kind", ["crossfade", "dip"])
def test_a_transition_is_its_own_segment_spanning_the_cut(tmp_path: Path, kind: str) -> None:
    """Shot A (red, 30 frames) keeps 4 tail frames, shot B (blue, 30) 4 head frames; the
    transition blends them: the frame count over the cut stays 60."""
    outs = {}
    for name, shade, head, tail in (("a", 250, None, 4), ("b", 0, 4, None)):
        main = tmp_path / f"{name}.mp4"
        args = filtergraph.segment_args(
            SegmentSpec(FramePipe(), W, H, FPS, 30), main,
            head=(head, tmp_path / f"{name}.head.mp4") if head else None,
            tail=(tail, tmp_path / f"{name}.tail.mp4") if tail else None,
        )  # fmt: skip
        ffmpeg.pipe_frames(_frames(30, shade), args, n_frames=30)
        outs[name] = main
    t = tmp_path / "t.mp4"
    ffmpeg.run(
        filtergraph.transition_args(
            kind, tmp_path / "a.tail.mp4", tmp_path / "b.head.mp4", frames_out=4, frames_in=4,
            fps=FPS, colour="#00ff00", out=t,
        )
    )  # fmt: skip

    def decoded(path: Path) -> list[np.ndarray]:
        with av.open(str(path)) as container:
            return [f.to_ndarray(format="rgb24").astype(int) for f in container.decode(video=0)]

    assert len(decoded(outs["a"])) == 26 and len(decoded(outs["b"])) == 26
    frames = decoded(t)
    assert len(frames) == 8
    red = [f[..., 0].mean() for f in frames]
    blue = [f[..., 2].mean() for f in frames]
    assert red[0] > 150 and blue[-1] > 150  # from A ...to B
    if kind == "dip":
        # Through the colour at the cut: green, neither red nor blue.
        mid = frames[3][..., 1].mean(), red[3], blue[3]
        assert mid[0] > 150 and mid[1] < 100 and mid[2] < 100
    else:
        # Both shots at once, half way.
        assert 60 < red[4] < 200 and 60 < blue[4] < 200
