"""The offline voice: real piper synthesis, word timings that follow the audio, visemes."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from personaforge.backends.tts.piper import PiperTTS, align_words
from personaforge.text.visemes import VISEMES

TEXT = "Of the two maps, mom paid $12.50 on 2026-11-27. Then silence."


@pytest.fixture(scope="module")
def speech():  # type: ignore[no-untyped-def]
    return PiperTTS().synthesize(TEXT)


def _pcm(samples: bytes) -> np.ndarray:
    return np.frombuffer(samples, dtype="<i2").astype(np.float64)


def test_every_written_word_gets_a_span_in_order(speech) -> None:  # type: ignore[no-untyped-def]
    texts = [w.text for w in speech.words]
    assert texts == [
        "Of",
        "the",
        "two",
        "maps,",
        "mom",
        "paid",
        "$12.50",
        "on",
        "2026-11-27.",
        "Then",
        "silence.",
    ]
    duration = len(speech.samples) / 2 / speech.sample_rate
    last = 0.0
    for w in speech.words:
        assert last - 1e-3 <= w.start < w.end <= duration
        last = w.end
    by = {w.text: w for w in speech.words}
    # Written tokens that are several spoken words take longer than one short word.
    assert by["$12.50"].end - by["$12.50"].start > 2 * (by["on"].end - by["on"].start)
    assert "twelve dollars" in speech.spoken.lower()


def test_word_spans_hold_sound_and_the_tail_is_silent(speech) -> None:  # type: ignore[no-untyped-def]
    pcm = _pcm(speech.samples)
    rate = speech.sample_rate
    peak = np.abs(pcm).max()
    for w in speech.words:
        seg = pcm[int(w.start * rate) : int(w.end * rate)]
        assert np.sqrt(np.mean(seg**2)) > 0.03 * peak, w
    tail = pcm[int((speech.words[-1].end + 0.1) * rate) :]
    assert tail.size > 0 and np.abs(tail).max() < 0.02 * peak


def test_visemes_are_sorted_known_and_close_at_the_end(speech) -> None:  # type: ignore[no-untyped-def]
    times = [t for t, _ in speech.visemes]
    assert times == sorted(times) and times[0] >= 0
    assert {v for _, v in speech.visemes} <= set(VISEMES)
    assert speech.visemes[-1][1] == "sil"
    mom = next(w for w in speech.words if w.text == "mom")
    during = [v for t, v in speech.visemes if mom.start - 0.03 <= t <= mom.end]
    assert "PP" in during  # lips close for the m's


def test_alignment_handles_words_espeak_merges() -> None:
    # "of the" comes back from espeak as one phoneme group.
    spans = align_words(["of", "the", "cat"], [(0.0, 0.3, 4), (0.35, 0.6, 3)])
    assert spans[0][0] == 0.0 and spans[1][1] == pytest.approx(0.3)
    assert spans[2] == (0.35, 0.6)
    assert spans[0][1] <= spans[1][0]


def test_speed_setting_changes_the_duration() -> None:
    slow = PiperTTS(speed=0.7).synthesize("A short test sentence here.")
    fast = PiperTTS(speed=1.5).synthesize("A short test sentence here.")
    assert len(slow.samples) > 1.5 * len(fast.samples)


def test_the_same_text_gives_the_same_audio_bit_for_bit() -> None:
    """Reproducible builds: piper's random noise is replaced by positional noise."""
    first = PiperTTS().synthesize("Reproducible speech, twice.")
    again = PiperTTS().synthesize("Reproducible speech, twice.")
    assert first.samples == again.samples and first.words == again.words


def test_positional_noise_is_standard_normal() -> None:
    import onnx
    import onnxruntime
    from onnx import TensorProto, helper

    from personaforge.backends.tts.deterministic import replace_random_normal

    graph = helper.make_graph(
        [helper.make_node("RandomNormalLike", ["x"], ["y"], dtype=TensorProto.FLOAT)],
        "noise",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["a", "b"])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["a", "b"])],
    )
    # IR 8: what every supported onnxruntime reads (older wheels stop at 11).
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 15)], ir_version=8)
    assert replace_random_normal(model) == 1
    onnx.checker.check_model(model)
    session = onnxruntime.InferenceSession(model.SerializeToString())
    x = np.zeros((300, 400), dtype=np.float32)
    y = session.run(None, {"x": x})[0]
    assert y.shape == x.shape
    assert abs(float(y.mean())) < 0.02 and abs(float(y.std()) - 1.0) < 0.03
    assert abs(np.corrcoef(y.ravel()[:-1], y.ravel()[1:])[0, 1]) < 0.02
    assert np.array_equal(y, session.run(None, {"x": x})[0])


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


LONG = (
    "Part zero zero zero: every video starts with a script, and every script starts with an "
    "idea worth sharing, one sentence after another, until the story is told."
)


@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="reads /proc")
def test_release_memory_gives_back_the_working_memory_and_keeps_the_voice() -> None:
    """After a long sentence ONNX Runtime holds ~130 MB of arena; make-video would carry it
    through lipsync and render. release_memory frees it without unloading the voice."""
    from personaforge.backends.tts.piper import _load_voice

    tts = PiperTTS()
    first = tts.synthesize(LONG)
    grown = _rss_mb()
    tts.release_memory()
    released = _rss_mb()
    assert grown - released > 40, f"{grown:.0f} MB -> {released:.0f} MB"
    loads = _load_voice.cache_info().misses
    again = tts.synthesize(LONG)
    assert _load_voice.cache_info().misses == loads  # not loaded again
    assert again.samples == first.samples and again.words == first.words


def test_speak_releases_the_voices_memory_only_when_it_voiced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from helpers import write_project

    from personaforge.cli.main import main

    calls: list[str] = []
    monkeypatch.setattr(PiperTTS, "release_memory", lambda self: calls.append(self.voice))
    project = write_project(tmp_path / "p")

    def stage(name: str) -> None:
        with pytest.raises(SystemExit) as done:
            main(["--quiet", name, str(project)])
        assert done.value.code in (0, None)

    stage("plan")
    stage("speak")
    assert calls == ["joe"]
    (project / "build" / "speech.yaml").unlink()
    stage("speak")  # the stage runs again, but every shot is reused: nothing to give back
    assert calls == ["joe"]


def test_the_voice_is_kept_optimised_and_gives_the_same_audio_from_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The patched, optimised model is kept in the user's cache; loaded from there (or built
    again after the file was damaged) it speaks bit for bit as the first build did."""
    from personaforge.backends.tts import piper

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    builds: list[object] = []
    real_build = piper._build_session
    monkeypatch.setattr(piper, "_build_session", lambda *a: builds.append(a) or real_build(*a))

    def speak() -> tuple[bytes, list[object]]:
        piper._load_voice.cache_clear()
        speech = PiperTTS().synthesize(LONG)
        return speech.samples, [(w.text, w.start, w.end) for w in speech.words]

    first = speak()
    kept = list((tmp_path / "personaforge" / "voices").glob("*.onnx"))
    assert len(builds) == 1 and len(kept) == 1 and kept[0].stat().st_size > 10_000_000
    assert speak() == first and len(builds) == 1  # from the cache: not built again
    kept[0].write_bytes(b"not a model")
    assert speak() == first and len(builds) == 2  # damaged: built again, and kept again
    assert kept[0].stat().st_size > 10_000_000
    assert not [p for p in kept[0].parent.iterdir() if p.name.startswith(".")]  # no temp files
    piper._load_voice.cache_clear()


def test_older_kept_voices_are_pruned_to_the_last_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A package upgrade leaves the old kept model behind (~60 MB): building a new one keeps
    the few used last and removes the rest of this voice's, nobody else's."""
    import os
    import time

    from personaforge.backends.tts import piper

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    folder = tmp_path / "personaforge" / "voices"
    folder.mkdir(parents=True)
    package = piper.VOICES["joe"]
    now = time.time()
    older = []
    for days in (1, 2, 3, 4):
        path = folder / f"{package}-{days:024x}.onnx"
        path.write_bytes(b"an older build")
        os.utime(path, (now - days * 86400, now - days * 86400))
        older.append(path)
    others = [folder / f"other_voice-{0:024x}.onnx", folder / f"{package}-notes.onnx"]
    for path in others:
        path.write_bytes(b"not ours")
        os.utime(path, (now - 9 * 86400, now - 9 * 86400))

    piper._load_voice.cache_clear()
    PiperTTS().synthesize("Hello.")
    new = [p for p in folder.glob(f"{package}-*.onnx") if p not in older and p not in others]
    assert len(new) == 1 and new[0].stat().st_size > 10_000_000
    assert [p.exists() for p in older] == [True, True, False, False]
    assert all(p.exists() for p in others)

    # Loaded from the cache, the model counts as used now.
    os.utime(new[0], (now - 5 * 86400, now - 5 * 86400))
    piper._load_voice.cache_clear()
    PiperTTS().synthesize("Hello.")
    assert new[0].stat().st_mtime > now - 60
    piper._load_voice.cache_clear()
