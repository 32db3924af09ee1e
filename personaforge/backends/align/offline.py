"""The offline aligner: finds the script's words in a recorded take by dynamic time warping of
the take's MFCCs against the offline voice saying the same text (the method aeneas uses).

Why this method: it needs no model beyond the voice that is already bundled, works for any
language that voice can say, and the voice's own phoneme alignments give the mouth shapes of
every word for free. The speaker's voice differs from the offline one, so the features are
normalised per file (cepstral mean and variance), the first cepstral coefficient (loudness) is
left out of the spectral distance, and a speech/silence term keeps pauses matched to pauses.
A coarse pass (25 frames a second) in a band around a guess from the speech each file holds
finds the path; a fine pass (100 a second) in a narrow band around it places the words.
"""

from __future__ import annotations

import math
import wave
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from personaforge.backends.base import (
    ALIGN_RATE,
    AlignedSentence,
    Aligner,
    Alignment,
    AlignSetup,
    NotInTake,
    Speech,
    TimedWord,
)
from personaforge.backends.rates import Rates

HOP = ALIGN_RATE // 100  # 10 ms frames
WIN = 400  # 25 ms window
COARSE = 4  # the coarse pass takes every 4 frames together (25 a second)
GAP_S = 0.3  # the silence put between sentences in the reference
# A sentence whose match is this much worse than the take's typical one is not in the take.
MISMATCH_RATIO = 1.45
# A take with this much more speech than the script (and some seconds) is another text.
TOO_LONG_RATIO = 2.2
# A take whose match to the script (the median frame's cost) is no better than this share
# of its match played backwards (the same voice and sounds, in no order) does not say the
# script. Measured on takes by other engines (espeak-ng, flite, word by word and whole):
# the script's own text 0.78-0.935, another text 0.943-1.05 — a thin margin, measured on no
# human voice. When every sentence is wrong the per-sentence test above has no typical
# match to compare with, so this is what refuses a take of another text.
BACKWARDS_RATIO = 0.94
CHECK_FRAMES = 6000  # the first minute of the script's reference is enough to judge
SIL_WEIGHT = 1.0  # speech against silence costs about as much as two unlike sounds

NDArray = np.ndarray[Any, np.dtype[Any]]


def read_wav(path: Path) -> NDArray:
    """A mono 16-bit WAV as float32 in [-1, 1]."""
    with wave.open(str(path), "rb") as w:
        if w.getnchannels() != 1 or w.getsampwidth() != 2:
            raise ValueError(f"{path}: expected mono 16-bit audio")
        data = w.readframes(w.getnframes())
        rate = w.getframerate()
    samples = np.frombuffer(data, dtype="<i2").astype(np.float32) / 32768.0
    if rate != ALIGN_RATE:
        samples = resample(samples, rate, ALIGN_RATE)
    return samples


def resample(x: NDArray, src: int, dst: int) -> NDArray:
    """Linear resampling: enough for features at 10 ms (the stage hands over 16 kHz audio)."""
    if src == dst or len(x) == 0:
        return x
    n = round(len(x) * dst / src)
    t = np.arange(n, dtype=np.float64) * (src / dst)
    return np.interp(t, np.arange(len(x)), x).astype(np.float32)


def _mel_bank(n_fft: int, n_mels: int, rate: int) -> NDArray:
    def mel(f: NDArray | float) -> Any:
        return 2595.0 * np.log10(1.0 + np.asarray(f) / 700.0)

    edges = 700.0 * (10 ** (np.linspace(mel(60.0), mel(rate / 2 * 0.95), n_mels + 2) / 2595.0) - 1)
    bins = np.fft.rfftfreq(n_fft, 1.0 / rate)
    bank = np.zeros((n_mels, len(bins)), dtype=np.float32)
    for m in range(n_mels):
        lo, mid, hi = edges[m], edges[m + 1], edges[m + 2]
        up = (bins - lo) / (mid - lo)
        down = (hi - bins) / (hi - mid)
        bank[m] = np.maximum(0.0, np.minimum(up, down))
    return bank


_BANK = _mel_bank(512, 26, ALIGN_RATE)
# Only the spectral envelope's broad shape (c1..c6): the higher coefficients carry the
# speaker's and the synthesiser's own detail. Measured on espeak-ng and flite takes (six kinds,
# with gaps between words and without, WAV and Opus): c1..c12 gave a median word error of
# 41 ms (90th percentile 240 ms, and Opus takes off by up to 1 s), c1..c6 18 ms (123 ms).
N_CEPS = 6
_DCT = np.cos(np.pi / 26 * (np.arange(26)[None, :] + 0.5) * np.arange(N_CEPS + 1)[:, None]).astype(
    np.float32
)


def features(x: NDArray) -> tuple[NDArray, NDArray]:
    """(MFCCs c1..c6 normalised per file, log energy in dB) per 10 ms frame."""
    x = np.append(x[:1], x[1:] - 0.97 * x[:-1]).astype(np.float32)
    n = max(1, 1 + (len(x) - WIN) // HOP) if len(x) >= WIN else 1
    x = np.pad(x, (0, max(0, (n - 1) * HOP + WIN - len(x))))
    frames = np.lib.stride_tricks.as_strided(
        x, shape=(n, WIN), strides=(x.strides[0] * HOP, x.strides[0])
    )
    window = np.hamming(WIN).astype(np.float32)
    ceps = np.empty((n, N_CEPS), dtype=np.float32)
    energy = np.empty(n, dtype=np.float32)
    # A minute at a time: a 10-minute take's spectrum at once would need ~0.5 GB.
    for a in range(0, n, 6000):
        spec = np.abs(np.fft.rfft(frames[a : a + 6000] * window, 512)).astype(np.float32) ** 2
        energy[a : a + 6000] = 10.0 * np.log10(spec.sum(axis=1) + 1e-10)
        ceps[a : a + 6000] = (np.log(spec @ _BANK.T + 1e-8) @ _DCT.T)[:, 1:]
    ceps = (ceps - ceps.mean(axis=0)) / (ceps.std(axis=0) + 1e-6)
    return ceps, energy


def speech_mask(energy: NDArray) -> NDArray:
    """Frames that hold sound: within 35 dB of the loud end of the file, above its floor."""
    if len(energy) == 0:
        return np.zeros(0, dtype=bool)
    loud = float(np.percentile(energy, 95))
    floor = float(np.percentile(energy, 10))
    threshold = max(floor + 0.35 * (loud - floor), loud - 35.0)
    return energy > threshold


def dtw(
    cost_row: Callable[[int, int, int], NDArray], n: int, lo: NDArray, hi: NDArray
) -> tuple[NDArray, float]:
    """Cheapest monotone path from (0, 0) to (n-1, hi[-1]-1) through rows 0..n-1, row i
    allowed columns [lo[i], hi[i]) (lo and hi non-decreasing, lo[0] == 0).

    Steps are diagonal, down and right. Each row is done in a few array operations: a run of
    steps right costs the sum of the costs it crosses, so the row's best values are a running
    minimum over prefix sums.  Returns, per row, the first column the path takes there, and
    the mean cost along the path.
    """
    inf = np.inf
    starts: list[NDArray] = []  # per row: the column where each cell's run to the right began
    diag: list[NDArray] = []  # per row: whether that run was entered diagonally
    prev = np.empty(0)
    plo = phi = 0
    for i in range(n):
        a, b = int(lo[i]), int(hi[i])
        c = cost_row(i, a, b).astype(np.float64)
        cols = np.arange(a, b)
        if i == 0:
            enter = np.full(b - a, inf)
            enter[0] = c[0] if a == 0 else inf
            came_diag = np.zeros(b - a, dtype=bool)
        else:
            up = np.full(b - a, inf)
            ok = (cols >= plo) & (cols < phi)
            up[ok] = prev[cols[ok] - plo]
            dg = np.full(b - a, inf)
            okd = (cols - 1 >= plo) & (cols - 1 < phi)
            dg[okd] = prev[cols[okd] - 1 - plo]
            came_diag = dg <= up
            enter = c + np.minimum(dg, up)
        s = np.cumsum(c)
        base = enter - s
        run = np.minimum.accumulate(base)
        at = np.where(base <= run, np.arange(b - a), 0)
        starts.append((np.maximum.accumulate(at) + a).astype(np.int32))
        diag.append(came_diag)
        prev = run + s
        plo, phi = a, b
    total = float(prev[-1])
    if not math.isfinite(total):
        raise NotInTake("the take does not follow the script")
    # Walk back: each row's run, then the row above.
    first = np.zeros(n, dtype=np.int64)
    j = int(hi[-1]) - 1
    steps = 0
    for i in range(n - 1, -1, -1):
        k = int(starts[i][j - int(lo[i])])
        first[i] = k
        steps += j - k + 1
        if i == 0:
            break
        j = k - 1 if diag[i][k - int(lo[i])] else k
    return first, total / max(1, steps)


@dataclass
class Reference:
    """The offline voice saying the sentences, one after another with a short silence."""

    samples: NDArray
    spans: list[tuple[float, float]]  # each sentence's sounding span (s)
    speeches: list[Speech]
    offsets: list[float]  # where each sentence's audio starts (s)


def synthesize(voice: Any, sentences: Sequence[str]) -> Reference:
    pieces: list[NDArray] = []
    spans, offsets, speeches = [], [], []
    t = GAP_S
    pieces.append(np.zeros(int(GAP_S * ALIGN_RATE), dtype=np.float32))
    for text in sentences:
        speech: Speech = voice.synthesize(text)
        x = np.frombuffer(speech.samples, dtype="<i2").astype(np.float32) / 32768.0
        x = resample(x, speech.sample_rate, ALIGN_RATE)
        words = [w for w in speech.words if w.end > w.start]
        start = words[0].start if words else 0.0
        end = words[-1].end if words else len(x) / ALIGN_RATE
        offsets.append(t)
        spans.append((t + start, t + end))
        speeches.append(speech)
        pieces.append(x)
        pieces.append(np.zeros(int(GAP_S * ALIGN_RATE), dtype=np.float32))
        t += len(x) / ALIGN_RATE + GAP_S
    return Reference(np.concatenate(pieces), spans, speeches, offsets)


def _guess(ref_speech: NDArray, take_speech: NDArray) -> NDArray:
    """For each reference frame, the take frame holding the same share of all the speech:
    pauses of any length then cost the guess nothing."""
    cr = np.cumsum(ref_speech) + np.linspace(0, 1e-3, len(ref_speech))
    ct = np.cumsum(take_speech) + np.linspace(0, 1e-3, len(take_speech))
    cr /= cr[-1]
    ct /= ct[-1]
    return np.interp(cr, ct, np.arange(len(take_speech)))


def _pool(x: NDArray, k: int) -> NDArray:
    n = len(x) // k
    if n == 0:
        return x[:1]
    pooled: NDArray = x[: n * k].reshape(n, k, *x.shape[1:]).mean(axis=1)
    return pooled


def _band(centre: NDArray, radius: int, m: int) -> tuple[NDArray, NDArray]:
    c = np.maximum.accumulate(np.round(centre).astype(np.int64))
    lo = np.clip(c - radius, 0, m - 1)
    hi = np.clip(c + radius + 1, 1, m)
    lo[0] = 0
    hi[-1] = m
    lo = np.maximum.accumulate(lo)
    hi = np.maximum.accumulate(hi)
    # Keep the band connected: each row must reach the column the previous row ended on.
    hi = np.maximum(hi, np.concatenate([[1], lo[1:] + 1]))
    return lo, hi


def _coster(r: NDArray, t: NDArray, rs: NDArray, ts: NDArray) -> Callable[[int, int, int], NDArray]:
    def row(i: int, a: int, b: int) -> NDArray:
        d = np.sqrt(((t[a:b] - r[i]) ** 2).sum(axis=1)) / math.sqrt(r.shape[1])
        out: NDArray = d + SIL_WEIGHT * (ts[a:b] != rs[i])
        return out

    return row


def warp(
    ref: tuple[NDArray, NDArray], take: tuple[NDArray, NDArray]
) -> tuple[NDArray, NDArray, NDArray]:
    """Per reference frame, the first take frame matched to it; the per-frame cost along the
    path; and the take's speech mask. ``ref`` and ``take`` are their ``features``."""
    (rf, re_), (tf, te) = ref, take
    rs, ts = speech_mask(re_), speech_mask(te)
    if not ts.any():
        raise NotInTake("the take is silent")
    # Coarse pass.
    rc, tc = _pool(rf, COARSE), _pool(tf, COARSE)
    rsc, tsc = (
        _pool(rs.astype(np.float32), COARSE) > 0.5,
        _pool(ts.astype(np.float32), COARSE) > 0.5,
    )
    n, m = len(rc), len(tc)
    radius = int((4.0 + 0.06 * m * COARSE / 100) * 100 / COARSE)
    lo, hi = _band(_guess(rsc.astype(np.float32), tsc.astype(np.float32)), radius, m)
    first, _ = dtw(_coster(rc, tc, rsc, tsc), n, lo, hi)
    # Fine pass, in a band around the coarse path.
    n, m = len(rf), len(tf)
    centre = np.interp(np.arange(n) / COARSE, np.arange(len(first)), first * COARSE + COARSE / 2)
    lo, hi = _band(centre, 3 * COARSE + 12, m)
    coster = _coster(rf, tf, rs, ts)
    fine, _ = dtw(coster, n, lo, hi)
    # The cost of each reference frame where the path meets it, to judge each sentence.
    matched = tf[np.minimum(fine, m - 1)]
    per = np.sqrt(((matched - rf) ** 2).sum(axis=1)) / math.sqrt(rf.shape[1])
    per = per + SIL_WEIGHT * (ts[np.minimum(fine, m - 1)] != rs)
    return fine, per, ts


def _check_lengths(ref_energy: NDArray, take_energy: NDArray) -> None:
    """A take with far more or far less speech than the script says is not its recording."""
    ref_s = float(speech_mask(ref_energy).sum()) / 100
    take_s = float(speech_mask(take_energy).sum()) / 100
    if take_s > TOO_LONG_RATIO * ref_s + 5.0:
        raise NotInTake(
            f"the take holds {take_s:.0f} s of speech, the script about {ref_s:.0f} s: "
            "is it a recording of this script?"
        )
    if take_s * TOO_LONG_RATIO + 2.0 < ref_s:
        raise NotInTake(
            f"the take holds {take_s:.0f} s of speech, the script about {ref_s:.0f} s: "
            "it lacks part of the script"
        )


def _check_matches(
    ref: tuple[NDArray, NDArray],
    take: tuple[NDArray, NDArray],
    path: NDArray,
    per: NDArray,
) -> None:
    """Refuse a take that says another text: its best warp onto the script must beat the
    warp of the same take played backwards by a clear margin. A long take is judged on its
    first minute (where the path puts it), so the check costs the same for any length."""
    n = min(len(path), CHECK_FRAMES)
    end = len(take[0]) if n == len(path) else max(1, int(path[n - 1]) + 1)
    ref_part = (ref[0][:n], ref[1][:n])
    backwards = (take[0][:end][::-1].copy(), take[1][:end][::-1].copy())
    _, reversed_per, _ = warp(ref_part, backwards)
    ratio = float(np.median(per[:n])) / max(1e-9, float(np.median(reversed_per)))
    if ratio > BACKWARDS_RATIO:
        raise NotInTake(
            f"the take does not say the script (it matches it no better than the take played "
            f"backwards: {ratio:.3f}, wanted under {BACKWARDS_RATIO}); record this script, or "
            "if it does say it, align it with `narration: {align: elevenlabs}`"
        )


def _onsets(speech: NDArray, quiet_frames: int = 3) -> NDArray:
    """Times (s) where sound starts after at least ``quiet_frames`` of silence."""
    s = speech.astype(np.int8)
    starts = np.flatnonzero(np.diff(s) == 1) + 1
    keep = [j for j in starts if j >= quiet_frames and not s[j - quiet_frames : j].any()]
    return np.array(keep, dtype=np.float64) / 100


def _snap(t: float, onsets: NDArray, before: float, after: float) -> float:
    near = onsets[(onsets >= t - before) & (onsets <= t + after)]
    if len(near) == 0:
        return t
    return round(float(near[np.argmin(np.abs(near - t))]), 3)


def _shift_first(words: list[TimedWord], start: float) -> list[TimedWord]:
    w = words[0]
    return [TimedWord(w.text, start, max(w.end, start + 0.05)), *words[1:]]


class OfflineAligner(Aligner):
    name = "offline"
    version = "3"  # 3: a take of another text is refused (BACKWARDS_RATIO)

    def __init__(self, voice: Any | None = None, *, language: str = "en", **_: object) -> None:
        self._voice = voice
        self.language = language

    @classmethod
    def from_setup(cls, setup: AlignSetup) -> OfflineAligner:
        return cls(language=setup.language)

    @property
    def voice(self) -> Any:
        """The offline voice of the script's language: piper's joe in English, espeak-ng's
        draft voice in the others it speaks."""
        if self._voice is None:
            from personaforge.errors import PersonaForgeError
            from personaforge.text import languages

            lang = languages.get(self.language)
            if lang.code == "en":
                from personaforge.backends.tts.piper import PiperTTS

                self._voice = PiperTTS(voice="joe", speed=1.0)
            elif lang.espeak is None:
                raise PersonaForgeError(
                    f"no offline voice speaks {lang.name} ({self.language}), so the offline "
                    "aligner cannot either",
                    hint="narration: {align: elevenlabs} in video.yaml",
                )
            else:
                from personaforge.backends.tts.espeak import EspeakTTS

                self._voice = EspeakTTS(language=self.language)
        return self._voice

    def settings_key(self) -> dict[str, object]:
        return {"aligner": self.name, "version": self.version, **self.voice.settings_key()}

    def align(self, audio: Path, sentences: Sequence[str]) -> Alignment:
        take = read_wav(audio)
        reference = synthesize(self.voice, sentences)
        ref_features, take_features = features(reference.samples), features(take)
        _check_lengths(ref_features[1], take_features[1])
        first, per, take_speech = warp(ref_features, take_features)
        _check_matches(ref_features, take_features, first, per)
        n = len(first)

        def at(t: float) -> float:
            i = min(n - 1, max(0, round(t * 100)))
            return float(first[i]) / 100

        onsets = _onsets(take_speech)
        scores = []
        out: list[AlignedSentence] = []
        for speech, offset, (s0, s1) in zip(
            reference.speeches, reference.offsets, reference.spans, strict=True
        ):
            a, b = int(s0 * 100), max(int(s0 * 100) + 1, int(s1 * 100))
            scores.append(float(per[a:b].mean()))
            words = [
                TimedWord(w.text, round(at(offset + w.start), 3), round(at(offset + w.end), 3))
                for w in speech.words
            ]
            if words:
                # A sentence starts after a pause: where the take's sound resumes is sharper
                # than where the warp crosses into the sentence.
                start = _snap(words[0].start, onsets, before=0.3, after=0.15)
                words = _shift_first(words, start)
                words = [
                    TimedWord(w.text, _snap(w.start, onsets, 0.06, 0.06), w.end) if i else w
                    for i, w in enumerate(words)
                ]
            visemes = [(round(at(offset + t), 3), v) for t, v in speech.visemes]
            out.append(AlignedSentence(words=words, visemes=visemes))
        typical = float(np.median(scores))
        for k, score in enumerate(scores):
            if len(scores) > 1 and score > MISMATCH_RATIO * typical:
                raise NotInTake("the take does not say this sentence", index=k)
        return Alignment(sentences=out)


RATES = Rates(per_call_s=0.1, per_audio_s=0.1)  # the offline voice says the text, one warp
