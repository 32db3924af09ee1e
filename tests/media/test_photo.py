"""Photo personas on a real photograph (scikit-image's public-domain NASA portrait) and framings
made from it: finding the one face by its landmarks, refusing bad portraits, and animating it,
checked with the landmark model on the rendered frames (the lips part with the voice, the skin
between nose and lip stays, the eyes blink, the face stays in frame)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from mediacheck import LipMeter
from numpy.typing import NDArray
from PIL import Image
from portraits import FRAMINGS, astronaut, on_canvas, save

from personaforge.media import landmarks as lm
from personaforge.media.photo import (
    MIN_FACE_PX,
    PhotoAnimator,
    Portrait,
    PortraitError,
    load_portrait,
)

FPS = 25
Frame = NDArray[np.uint8]


@pytest.fixture(scope="module")
def portrait(tmp_path_factory: pytest.TempPathFactory) -> Portrait:
    return load_portrait(save(astronaut(), tmp_path_factory.mktemp("p") / "astronaut.jpg"))


@pytest.mark.parametrize("name", list(FRAMINGS))
def test_every_framing_finds_the_one_face(tmp_path: Path, name: str) -> None:
    img = FRAMINGS[name](astronaut())
    p = load_portrait(save(img, tmp_path / "p.jpg"))
    # The mouth is found below the eyes, between them, in the photo's own pixels.
    mouth = (p.points[13] + p.points[14]) / 2
    eyes = (p.points[33] + p.points[263]) / 2
    down = mouth - eyes
    assert 0 < mouth[0] < img.shape[1] and 0 < mouth[1] < img.shape[0]
    assert float(np.hypot(*down)) > 0.25 * p.face[2]
    angle = math.degrees(math.atan2(-down[0], down[1]))  # 0 for an upright face
    expected = {"tilted +15": -15.0, "tilted -15": 15.0}.get(name, 0.0)
    assert abs(angle - expected) < 6, angle


def test_landmarks_are_cached_by_the_portraits_hash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from personaforge.media import photo

    path = save(astronaut(), tmp_path / "a.jpg")
    photo._CACHE.clear()  # found once per process as well: start from nothing
    first = load_portrait(path, cache_dir=tmp_path / "faces")
    [cached] = list((tmp_path / "faces").glob("*.json"))
    assert cached.stem == first.sha256
    photo._CACHE.clear()

    def no_search(rgb: Frame) -> list[lm.Face]:
        raise AssertionError("the cached landmarks were not used")

    monkeypatch.setattr(lm, "find_faces", no_search)
    again = load_portrait(path, cache_dir=tmp_path / "faces")
    assert np.allclose(again.points, first.points, atol=0.01)


def _error(path: Path) -> PortraitError:
    with pytest.raises(PortraitError) as info:
        load_portrait(path, persona=path.parent / "persona.yaml", line=7)
    err = info.value
    text = str(err)
    assert "\n" not in text and "persona.yaml:7: look.photo:" in text
    return err


def test_no_face_is_refused(tmp_path: Path) -> None:
    # The photo's background alone: flag, shuttle, wall.
    path = save(np.ascontiguousarray(astronaut()[:, 330:]), tmp_path / "wall.png")
    err = _error(path)
    assert "no face found in 'wall.png'" in err.message
    assert err.hint and f"at least {MIN_FACE_PX} px wide" in err.hint


def test_two_faces_of_similar_size_say_where_to_crop(tmp_path: Path) -> None:
    im = astronaut()
    path = save(np.concatenate([im, im[:, ::-1]], axis=1), tmp_path / "pair.png")
    err = _error(path)
    assert "2 faces of similar size found" in err.message and err.message.count(" px at x=") == 2
    assert err.hint and "crop" in err.hint


@pytest.mark.parametrize(("scale", "width"), [(0.62, 70), (0.16, 16)])
def test_a_face_too_small_names_its_size_and_the_minimum(
    tmp_path: Path, scale: float, width: int
) -> None:
    """Down to a face of ~16 px (a person far off in a wide shot) the error says how small it
    is and what is needed, rather than that there is no face."""
    path = save(on_canvas(astronaut(), (700, 500), scale, (300, 150)), tmp_path / "far.png")
    err = _error(path)
    assert f"at least {MIN_FACE_PX} px is needed" in err.message
    said = int(err.message.split(" px wide")[0].rsplit(" ", 1)[1])
    assert abs(said - width) <= 0.25 * width, err.message


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        ("face.jpg", b"not an image at all", "cannot read 'face.jpg' as an image"),
        ("face.png", None, "is a GIF image, not JPEG, PNG or WebP"),
        ("face.bmp", b"BM", "not a JPEG, PNG or WebP file"),
        ("missing.jpg", "missing", "'missing.jpg' not found"),
    ],
)
def test_unreadable_or_unsupported_files(
    tmp_path: Path, name: str, data: bytes | str | None, expected: str
) -> None:
    path = tmp_path / name
    if data is None:
        Image.fromarray(astronaut()).save(path, format="GIF")
    elif isinstance(data, bytes):
        path.write_bytes(data)
    assert expected in _error(path).message


# ---------------------------------------------------------------- animation, read back by landmarks


def _syllables(seconds: float) -> tuple[list[tuple[float, str]], NDArray[np.float32]]:
    """A viseme timeline and a loudness per frame as speech has them: syllables of varied
    length and strength, with pauses."""
    rng = np.random.default_rng(3)
    visemes: list[tuple[float, str]] = [(0.0, "sil")]
    n = round(seconds * FPS)
    loud = np.zeros(n, np.float32)
    t = 0.3
    while t < seconds - 0.4:
        dur = float(rng.uniform(0.12, 0.35))
        v = str(rng.choice(["aa", "E", "O", "I", "kk", "aa", "DD"]))
        visemes += [(t, v), (t + dur, str(rng.choice(["PP", "sil", "nn"])))]
        a, b = round(t * FPS), round((t + dur) * FPS)
        loud[a:b] = float(rng.uniform(0.3, 1.0))
        t += dur + float(rng.uniform(0.08, 0.3))
    return visemes, loud


def _frames(
    anim: PhotoAnimator, visemes: list[tuple[float, str]], n: int, loud: NDArray[np.float32] | None
) -> list[Frame]:
    shape = (anim.height, anim.width, 3)
    return [np.frombuffer(f, np.uint8).reshape(shape).copy() for f in anim.frames(visemes, n, loud)]


def _measure(frame: Frame, box: lm.Box) -> lm.Face:
    face = lm.landmarks_in(frame, box)
    assert face.score > 0.5
    return face


def test_the_lips_part_with_the_voice_and_nothing_under_the_nose_moves(portrait: Portrait) -> None:
    _lips_follow_the_voice(portrait)


@pytest.mark.parametrize("name", [n for n in FRAMINGS if n != "as shot"])
def test_the_framings_animate_like_the_photo_as_shot(tmp_path: Path, name: str) -> None:
    _lips_follow_the_voice(load_portrait(save(FRAMINGS[name](astronaut()), tmp_path / "p.jpg")))


def _lips_follow_the_voice(portrait: Portrait) -> None:
    """Read back by the landmark model: the inner-lip gap follows the loudness (r >= 0.5), the
    mouth opens wide and shuts, and the skin under the nose stays as the head moves it."""
    anim = PhotoAnimator(portrait, 480, 270, FPS, seed=2)
    visemes, loud = _syllables(4.0)
    frames = _frames(anim, visemes, loud.size, loud)
    meter = LipMeter(anim.points, anim.mouth_center)
    gaps, philtrum = [], []
    still = PhotoAnimator(portrait, 480, 270, FPS, seed=2)  # the same head motion, mouth shut
    for i, frame in enumerate(frames):
        gaps.append(meter.gap(frame))
        ref = still.render(i / FPS, 0.0)
        # The skin between the nose and the upper lip: from below the nose to above the lip.
        top, bottom = anim.points[lm.SUBNASALE], anim.points[0]
        y0, y1 = round(top[1] + 1), round(top[1] + 0.6 * (bottom[1] - top[1]))
        x0, x1 = round(top[0] - 6), round(top[0] + 6)
        diff = np.abs(frame[y0:y1, x0:x1].astype(int) - ref[y0:y1, x0:x1].astype(int))
        philtrum.append(float(diff.mean()))
    r = float(np.corrcoef(gaps, loud)[0, 1])
    assert r >= 0.5, r
    assert max(gaps) > 3 * (min(gaps) + 0.5)  # open wide, and shut
    assert max(philtrum) < 3.0, max(philtrum)


def test_a_smile_with_teeth_closes_and_opens_from_there(portrait: Portrait) -> None:
    anim = PhotoAnimator(portrait, 480, 270, FPS)
    box = tuple(round(v) for v in anim.face)

    def gap(jaw: float) -> float:
        pts = _measure(anim.render(0.0, jaw).copy(), box).points  # type: ignore[arg-type]
        return float(np.hypot(*(pts[14] - pts[13])))

    photo = float(np.hypot(*(anim.points[14] - anim.points[13])))
    assert photo > 3  # the portrait smiles with its teeth showing
    assert gap(0.0) < 0.5 * photo and gap(1.0) > 1.3 * photo


def test_eyes_blink_along_the_lids(portrait: Portrait) -> None:
    anim = PhotoAnimator(portrait, 480, 270, FPS, seed=9)
    n = 5 * FPS
    frames = _frames(anim, [(0.0, "sil")], n, None)
    blinks = anim.blinks(n / FPS)
    assert blinks, "no blink in five seconds"
    box = tuple(round(v) for v in anim.face)

    def lids(img: Frame) -> float:
        pts = _measure(img, box).points  # type: ignore[arg-type]
        return float(np.hypot(*(pts[159] - pts[145])) + np.hypot(*(pts[386] - pts[374])))

    opened = lids(frames[0])
    for b in blinks:
        mid = round((b + 0.075) * FPS)
        if mid < n:
            # (The model reads a shut eye's lashes a few pixels apart: 0.62 of open here.)
            assert lids(frames[mid]) < 0.7 * opened
    assert all(lids(frames[i]) > 0.8 * opened for i in (3, n // 2 + 7) if
               all(abs(i / FPS - b - 0.075) > 0.3 for b in blinks))  # fmt: skip


@pytest.mark.parametrize(
    ("name", "size"),
    [("as shot", (320, 180)), ("tilted +15", (320, 180)), ("4000 px, small face", (180, 320))],
)
def test_the_face_stays_in_frame(tmp_path: Path, name: str, size: tuple[int, int]) -> None:
    p = load_portrait(save(FRAMINGS[name](astronaut()), tmp_path / "p.jpg"))
    anim = PhotoAnimator(p, *size, FPS, emotion="excited", seed=1)
    w, h = size
    frames = _frames(anim, [(0.0, "sil"), (0.4, "aa"), (0.9, "sil")], 2 * FPS, None)
    for i in (0, 12, 35):
        found = lm.find_faces(frames[i])
        assert len(found) == 1, (i, found)
        pts = found[0].points
        assert pts[:, 0].min() >= 0 and pts[:, 1].min() >= 0
        assert pts[:, 0].max() <= w and pts[:, 1].max() <= h
        assert abs(float(pts[:, 0].mean()) - w / 2) < 0.1 * w


def test_exact_frame_count_size_and_determinism(portrait: Portrait) -> None:
    def run(seed: int) -> list[bytes]:
        return list(PhotoAnimator(portrait, 160, 90, FPS, seed=seed).frames([(0.3, "aa")], 40))

    frames = run(5)
    assert len(frames) == 40 and all(len(f) == 160 * 90 * 3 for f in frames)
    assert frames == run(5) != run(6)


def test_emotion_curve_changes_the_face(portrait: Portrait) -> None:
    curve = [(0.0, "neutral", 1.0), (1.0, "happy", 1.0)]
    plain = _frames(PhotoAnimator(portrait, 160, 90, FPS, seed=1), [], 40, None)
    curved = _frames(
        PhotoAnimator(portrait, 160, 90, FPS, seed=1, emotion_curve=curve), [], 40, None
    )
    assert np.array_equal(plain[0], curved[0])
    assert np.abs(plain[39].astype(int) - curved[39].astype(int)).sum() > 0


def test_doctor_reports_face_landmarks() -> None:
    from personaforge.commands.doctor import run_checks

    [faces] = [c for c in run_checks({}) if c.name == "faces"]
    assert faces.ok and "LiteRT" in faces.detail


def test_the_debug_overlay_shows_what_drives_the_face(tmp_path: Path) -> None:
    from personaforge.backends.base import AnimationRequest, LipsyncSetup
    from personaforge.backends.lipsync.photo import PhotoLipsync
    from personaforge.core.specs import Look
    from personaforge.media.overlay import DebugInfo

    photo = save(astronaut(), tmp_path / "me.jpg")
    setup = LipsyncSetup(root=tmp_path, persona_file=tmp_path / "persona.yaml", env={},
                         jobs=tmp_path / "build" / "jobs", photo=photo)  # fmt: skip
    from personaforge.media import photo as photo_module

    photo_module._CACHE.clear()  # found afresh, so its landmarks go to build/faces
    backend = PhotoLipsync.from_setup(setup)
    info = DebugInfo(shot="shot-001", words=[(0.1, 0.4, "Hello")])

    def frames(**extra: object) -> list[Frame]:
        request = AnimationRequest(
            Look(), 320, 180, FPS, 10, [(0.0, "sil"), (0.1, "aa")], extra=extra
        )
        raw = backend.frames(request, tmp_path / "no-audio.wav")
        return [np.frombuffer(f, np.uint8).reshape(180, 320, 3) for f in raw]

    plain, debug = frames(), frames(debug_overlay=info)
    assert len(debug) == len(plain) == 10
    a, b = plain[5].astype(int), debug[5].astype(int)
    assert np.abs(a[:50, :120] - b[:50, :120]).mean() > 10  # the text
    assert (debug[5] == (60, 255, 90)).all(axis=2).sum() > 100  # the landmarks
    assert info.word_at(0.2) == "Hello" and info.word_at(0.9) == "-"
    assert list((tmp_path / "build" / "faces").glob("*.json"))  # found once, kept in build/


def test_a_closed_mouth_opens_onto_a_mouth(tmp_path: Path, portrait: Portrait) -> None:
    # A real photo with its mouth shut: the animator's own closed frame of the astronaut.
    shut = PhotoAnimator(portrait, 720, 720, FPS).render(0.0, 0.0).copy()
    anim = PhotoAnimator(load_portrait(save(shut, tmp_path / "shut.jpg")), 480, 270, FPS)
    assert not anim._mouth.own_teeth
    x0, y0, x1, y1 = anim.mouth_box
    closed = anim.render(0.0, 0.0)[y0:y1, x0:x1].astype(int)
    opened = anim.render(0.0, 1.0)[y0:y1, x0:x1].astype(int)
    lum_closed, lum_open = closed.mean(axis=2), opened.mean(axis=2)
    assert (lum_open < 90).sum() > 3 * max(1, (lum_closed < 90).sum())  # a dark cavity
    grey = (lum_open > 150) & (np.ptp(opened, axis=2) < 40)
    grey_closed = (lum_closed > 150) & (np.ptp(closed, axis=2) < 40)
    assert grey.sum() > max(grey.size * 0.01, 3 * grey_closed.sum())  # and upper teeth


def test_the_background_beyond_the_head_stays_still(portrait: Portrait) -> None:
    """The head sways, nods and breathes, excited; the picture around it does not move: past
    1.5 face sizes from the face's centre every pixel of every frame is the still's. (Between
    1.0 and 1.5 the head's motion fades out: hair and the background next to it go with it.)"""
    anim = PhotoAnimator(portrait, 480, 270, FPS, emotion="excited", seed=4)
    fx, fy, fw, fh = anim.face
    frames = [anim.render(t, 0.0).copy() for t in np.arange(0.0, 6.0, 0.2)]
    h, w = frames[0].shape[:2]
    ys, xs = np.mgrid[0:h, 0:w]
    reach = np.hypot((xs - fx - fw / 2) / fw, (ys - fy - fh / 2) / fh)
    moved = np.zeros((h, w), bool)
    for frame in frames[1:]:
        moved |= np.any(frame != frames[0], axis=2)
    assert moved[reach < 1.0].mean() > 0.5  # the head does move
    assert not moved[reach > 1.5].any()
