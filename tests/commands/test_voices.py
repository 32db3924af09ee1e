"""Voices offline: markup and pronunciations through a project, `speak --text`, `voices`,
`archetypes`, and the drawn avatar following the emotion curve."""

from __future__ import annotations

import json
import wave
from pathlib import Path

import numpy as np
import yaml
from helpers import run_cli, write_project

from personaforge.commands.make_video import run_stage
from personaforge.core.archetypes import ARCHETYPES
from personaforge.core.project import Project
from personaforge.media.avatar import AvatarAnimator
from personaforge.runtime.common import Context


def test_markup_and_pronunciations_reach_speech_and_captions(tmp_path: Path) -> None:
    folder = write_project(
        tmp_path / "p", "We love *SQL* here, [pause 0.8s] really we do.\n", archetype="coach"
    )
    with (folder / "persona.yaml").open("a") as f:
        f.write("pronunciations: {SQL: sequel}\n")
    ctx = Context.load(Project(folder))
    run_stage("plan", ctx)
    run_stage("speak", ctx)
    speech = yaml.safe_load((folder / "build/speech.yaml").read_text())
    (shot,) = speech["shots"]
    words = shot["words"]
    assert [w["text"] for w in words] == ["We", "love", "SQL", "here,", "really", "we", "do."]
    assert "sequel" in shot["spoken"].lower() and "*" not in shot["spoken"]
    gap = words[4]["start"] - words[3]["end"]
    assert gap >= 0.8  # the pause is silence in the timings (captions split there)
    assert shot["emotion_curve"][0]["t"] == 0.0
    assert abs(shot["emotion_curve"][-1]["t"] - shot["duration_s"]) < 0.001
    assert set(shot["delivery"]) == {"length_scale", "noise_scale", "noise_w"}
    with wave.open(str(folder / shot["audio"])) as w:
        audio = np.frombuffer(w.readframes(w.getnframes()), "<i2")
        rate = w.getframerate()
    quiet = audio[int(words[3]["end"] * rate) + 2000 : int(words[4]["start"] * rate) - 2000]
    assert quiet.size and np.abs(quiet).max() < 50  # silence (piper leaves a faint tail)
    # A second run reuses the shot; changing the pronunciation re-voices it.
    assert run_stage("speak", Context.load(Project(folder))).ran is False
    text = (folder / "persona.yaml").read_text().replace("sequel", "ess cue ell")
    (folder / "persona.yaml").write_text(text)
    ctx = Context.load(Project(folder))
    result = run_stage("speak", ctx)
    assert result.ran and result.reused == 0


def test_speak_text_without_a_project(tmp_path: Path) -> None:
    out = tmp_path / "out" / "hi.wav"
    proc = run_cli("speak", "--text", "Hello *world*. [pause 0.3s] Bye!", "--archetype", "coach",
                   "-o", str(out), "--json")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    timings = json.loads(out.with_suffix(".json").read_text())
    assert result["audio"] == str(out) and result["backend"] == "piper"
    assert [w["text"] for w in timings["words"]] == ["Hello", "world.", "Bye!"]
    with wave.open(str(out)) as w:
        assert abs(w.getnframes() / w.getframerate() - timings["duration_s"]) < 0.001
    # stdin, through --text-file -, with a persona file
    persona = tmp_path / "persona.yaml"
    persona.write_text("schema_version: 1\nname: Al\npronunciations: {GIF: jif}\n")
    proc = run_cli("speak", "--text-file", "-", "--persona", str(persona), "-o",
                   str(tmp_path / "gif.wav"), stdin="A GIF.\n")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == str(tmp_path / "gif.wav")
    timings = json.loads((tmp_path / "gif.json").read_text())
    assert timings["spoken"] == "A jif." and timings["words"][1]["text"] == "GIF."


def test_speak_text_usage_errors(tmp_path: Path) -> None:
    proc = run_cli("speak", "--text", "Hi")
    assert proc.returncode == 2 and "--out" in proc.stderr
    proc = run_cli("speak", "--text", "Hi", "--archetype", "pirate", "-o", str(tmp_path / "a.wav"))
    assert proc.returncode == 1 and "unknown archetype 'pirate'" in proc.stderr


def test_voices_and_archetypes_commands() -> None:
    proc = run_cli("voices", "--json")
    assert proc.returncode == 0, proc.stderr
    assert [v["id"] for v in json.loads(proc.stdout)] == ["joe"]
    proc = run_cli("archetypes", "--json")
    assert proc.returncode == 0, proc.stderr
    found = json.loads(proc.stdout)
    assert len(found) == 12
    for name, a in found.items():
        assert a["brain_prompt"] and a["elevenlabs"]["voice"], name
        # The offline voice is a man's: every offline look is drawn to fit it.
        assert a["look"]["hair_style"] in ("short", "bald"), name
    text = run_cli("archetypes").stdout
    assert all(name in text for name in found)


def test_every_archetype_looks_different() -> None:
    frames = [
        AvatarAnimator(a.look, 64, 64, 30).frame(0.0, "sil").tobytes() for a in ARCHETYPES.values()
    ]
    assert len(set(frames)) == len(frames)


def test_the_drawn_avatar_follows_the_emotion_curve() -> None:
    look = ARCHETYPES["host"].look
    curve = [(0.0, "neutral", 0.2), (1.0, "excited", 1.0), (2.0, "serious", 1.0)]
    anim = AvatarAnimator(look, 160, 160, 30, emotion="neutral", emotion_curve=curve)
    x0, y0, x1, y1 = anim.eyes_box
    calm = anim.frame(0.0, "sil")[y0 - 10 : y1, x0:x1].astype(int)
    lifted = anim.frame(1.0, "sil")[y0 - 10 : y1, x0:x1].astype(int)
    frown = anim.frame(2.0, "sil")[y0 - 10 : y1, x0:x1].astype(int)
    assert np.abs(calm - lifted).sum() > 0 and np.abs(lifted - frown).sum() > 0
    assert anim._head_lift(1.0) > anim._head_lift(0.0) == 0.0  # the head rises with it
    plain = AvatarAnimator(look, 160, 160, 30, emotion="neutral")
    assert np.array_equal(plain.frame(0.0, "sil"), plain.frame(2.0, "sil"))
