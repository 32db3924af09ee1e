"""What a platform's ingest reads in an MP4's structure and its H.264 stream: the colour tags,
the GOPs and B-frame runs (from each frame's slice header, without decoding a picture), the
edit lists and whether the index comes first (from the MP4's boxes)."""

from __future__ import annotations

import itertools
import struct
from dataclasses import dataclass, field
from pathlib import Path

from personaforge.errors import PersonaForgeError

# The MP4 boxes that hold other boxes, on the way to the ones read here.
_CONTAINERS = {b"moov", b"trak", b"edts", b"mdia", b"minf", b"stbl"}


@dataclass
class Boxes:
    top: list[bytes] = field(default_factory=list)  # the top-level boxes, in file order
    edit_lists: list[int] = field(default_factory=list)  # entries of each track's elst

    @property
    def faststart(self) -> bool:
        """The index (moov) before the media (mdat): a player starts before the download ends."""
        return (
            b"moov" in self.top
            and b"mdat" in self.top
            and (self.top.index(b"moov") < self.top.index(b"mdat"))
        )


def read_boxes(path: Path) -> Boxes:
    found = Boxes()
    with path.open("rb") as fh:
        size_total = path.stat().st_size
        _walk(fh, 0, size_total, found, top=True)
    return found


def _walk(fh: object, start: int, end: int, found: Boxes, *, top: bool) -> None:
    import io

    assert isinstance(fh, io.BufferedReader)
    pos = start
    while pos + 8 <= end:
        fh.seek(pos)
        header = fh.read(8)
        size, kind = struct.unpack(">I4s", header)
        head = 8
        if size == 1:
            size = struct.unpack(">Q", fh.read(8))[0]
            head = 16
        elif size == 0:
            size = end - pos
        if size < head:
            break
        if top:
            found.top.append(kind)
        if kind == b"elst":
            fh.seek(pos + head + 4)  # version and flags
            found.edit_lists.append(struct.unpack(">I", fh.read(4))[0])
        elif kind in _CONTAINERS:
            _walk(fh, pos + head, pos + size, found, top=False)
        pos += size


@dataclass(frozen=True)
class Frame:
    pts: int
    keyframe: bool
    idr: bool
    slice_type: str  # "I", "P" or "B"


def h264_frames(path: Path) -> tuple[list[Frame], float]:
    """Every video frame's type, in decode order, and the stream's frame rate."""
    import av

    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            extradata = stream.codec_context.extradata or b""
            # avcC: the NAL length field's size is in its fifth byte.
            length_size = (extradata[4] & 3) + 1 if len(extradata) > 4 else 4
            rate = float(stream.average_rate or 0)
            frames = []
            for packet in container.demux(stream):
                if packet.size == 0 or packet.pts is None:
                    continue
                idr, kind = _first_slice(bytes(packet), length_size)
                frames.append(Frame(packet.pts, bool(packet.is_keyframe), idr, kind))
    except (OSError, IndexError, av.error.FFmpegError) as exc:  # type: ignore[attr-defined]
        raise PersonaForgeError(f"cannot read the video stream: {exc}", file=path) from None
    return frames, rate


_SLICE_TYPES = {0: "P", 1: "B", 2: "I", 3: "P", 4: "I"}  # SP and SI read as P and I


def _first_slice(data: bytes, length_size: int) -> tuple[bool, str]:
    """(IDR?, slice type) of the first coded slice in an AVCC packet."""
    pos = 0
    while pos + length_size <= len(data):
        n = int.from_bytes(data[pos : pos + length_size], "big")
        nal = data[pos + length_size : pos + length_size + n]
        pos += length_size + n
        if not nal:
            continue
        nal_type = nal[0] & 0x1F
        if nal_type in (1, 5):
            bits = _Bits(_unescape(nal[1:24]))
            bits.ue()  # first_mb_in_slice
            return nal_type == 5, _SLICE_TYPES.get(bits.ue() % 5, "?")
    return False, "?"


def _unescape(raw: bytes) -> bytes:
    """Drop the emulation-prevention bytes (00 00 03 -> 00 00)."""
    return raw.replace(b"\x00\x00\x03", b"\x00\x00")


class _Bits:
    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def bit(self) -> int:
        byte = self.data[self.pos // 8] if self.pos // 8 < len(self.data) else 0
        self.pos += 1
        return (byte >> (7 - (self.pos - 1) % 8)) & 1

    def ue(self) -> int:
        zeros = 0
        while self.bit() == 0 and zeros < 32:
            zeros += 1
        value = 0
        for _ in range(zeros):
            value = (value << 1) | self.bit()
        return (1 << zeros) - 1 + value


def longest_gop(frames: list[Frame]) -> int:
    """The most frames from one keyframe to the next (or to the end)."""
    starts = [i for i, f in enumerate(frames) if f.keyframe] + [len(frames)]
    return max((b - a for a, b in itertools.pairwise(starts)), default=len(frames))


def longest_b_run(frames: list[Frame]) -> int:
    """The most B-frames in a row, in the order they are shown."""
    run = best = 0
    for f in sorted(frames, key=lambda f: f.pts):
        run = run + 1 if f.slice_type == "B" else 0
        best = max(best, run)
    return best
