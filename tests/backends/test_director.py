"""The VoiceDirector: deterministic delivery per persona and emotion, and the emotion curve."""

from __future__ import annotations

from personaforge.backends.tts.director import DIRECTOR_VERSION, direct, emotion_curve
from personaforge.commands.init import make_persona
from personaforge.core.archetypes import ARCHETYPES
from personaforge.core.manifests import Word
from personaforge.core.specs import Persona


def _persona(backend: str = "piper", archetype: str = "narrator") -> Persona:
    return make_persona("Test", archetype, backend=backend)


def test_the_same_shot_always_gets_the_same_direction() -> None:
    a = direct(_persona(), "Hello *there* [pause 1s] again?", emotion="curious", kind="talking",
               backend="piper")  # fmt: skip
    b = direct(_persona(), "Hello *there* [pause 1s] again?", emotion="curious", kind="talking",
               backend="piper")  # fmt: skip
    assert a.key() == b.key() and a.key()["director"] == DIRECTOR_VERSION
    assert a.key()["pauses"] == [1.0, 0.0]


def test_emotion_shapes_delivery_in_both_voices() -> None:
    piper = {e: direct(_persona(), "Go.", emotion=e, kind="talking", backend="piper").delivery
             for e in ("excited", "calm")}  # fmt: skip
    assert piper["excited"]["length_scale"] < piper["calm"]["length_scale"]
    assert piper["excited"]["noise_scale"] > piper["calm"]["noise_scale"]
    cloud = {
        e: direct(_persona("elevenlabs"), "Go.", emotion=e, kind="talking",
                  backend="elevenlabs").delivery
        for e in ("excited", "calm")
    }  # fmt: skip
    assert cloud["excited"]["stability"] < cloud["calm"]["stability"]
    assert cloud["excited"]["style"] > cloud["calm"]["style"]
    assert all(0.7 <= d["speed"] <= 1.2 for d in cloud.values())  # type: ignore[operator]


def test_every_archetype_sounds_different_offline() -> None:
    deliveries = {
        name: tuple(direct(make_persona("T", name), "Hi.", emotion="neutral", kind="talking",
                           backend="piper").delivery.values())
        for name in ARCHETYPES
    }  # fmt: skip
    assert len(ARCHETYPES) == 12
    assert len(set(deliveries.values())) == 12


def test_only_pronunciations_a_shot_uses_are_in_its_key() -> None:
    persona = _persona().model_copy(update={"pronunciations": {"SQL": "sequel", "GIF": "jif"}})
    d = direct(persona, "I like SQL.", emotion="neutral", kind="talking", backend="piper")
    assert d.pronunciations == {"SQL": "sequel"}


def test_the_curve_peaks_on_emphasis_and_questions_look_curious() -> None:
    d = direct(_persona(), "Is this *real*?", emotion="happy", kind="talking", backend="piper")
    words = [Word(text="Is", start=0.1, end=0.2), Word(text="this", start=0.25, end=0.4),
             Word(text="real?", start=0.5, end=0.9)]  # fmt: skip
    curve = emotion_curve(d, words, 1.4, [False, False, True])
    times = [t for t, _, _ in curve]
    assert times == sorted(times) and times[0] == 0.0 and times[-1] == 1.4
    assert any(e == "curious" for _, e, _ in curve)
    happy = [i for _, e, i in curve if e == "happy"]
    assert max(happy) > happy[0]
    assert all(0.0 <= i <= 1.0 for _, _, i in curve)


def test_a_slow_archetype_breathes_between_sentences() -> None:
    text = "Breathe *in*. Dr. Lee says hold it! Now out."
    calm = direct(make_persona("M", "meditator"), text, emotion="calm", kind="talking",
                  backend="piper")  # fmt: skip
    assert [(p.text, p.pause_after_s) for p in calm.pieces] == [
        ("Breathe in.", 0.4), ("Dr. Lee says hold it!", 0.4), ("Now out.", 0.0)
    ]  # fmt: skip
    assert calm.pieces[0].emphasis == frozenset({1})
    host = direct(make_persona("H", "host"), text, emotion="calm", kind="talking", backend="piper")
    assert len(host.pieces) == 1
