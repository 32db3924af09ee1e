"""Photo personas: finding the one face, refusing bad portraits, and animating the face (mouth
by the viseme timeline, blinks, the face kept in frame)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray
from PIL import Image

from personaforge.media.photo import (
    MIN_FACE_PX,
    PhotoAnimator,
    Portrait,
    PortraitError,
    detect_faces,
    load_portrait,
)
from personaforge.media.synthface import draw_portrait

FPS = 30
Frame = NDArray[np.uint8]


@pytest.fixture(scope="module")
def portrait_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("portrait") / "me.jpg"
    draw_portrait(640, 480, face_width=200).save(path, quality=90)
    return path


@pytest.fixture(scope="module")
def portrait(portrait_path: Path) -> Portrait:
    return load_portrait(portrait_path)


def _frames(anim: PhotoAnimator, visemes: list[tuple[float, str]], n: int) -> list[Frame]:
    shape = (anim.height, anim.width, 3)
    return [np.frombuffer(f, np.uint8).reshape(shape) for f in anim.frames(visemes, n)]


def _crop(img: Frame, box: tuple[int, int, int, int]) -> NDArray[np.float32]:
    x0, y0, x1, y1 = box
    return img[y0:y1, x0:x1].astype(np.float32)


def test_the_shipped_synthetic_portrait_has_exactly_one_detectable_face() -> None:
    faces = detect_faces(np.asarray(draw_portrait()))
    assert len(faces) == 1 and faces[0][2] >= MIN_FACE_PX


def test_portrait_geometry_is_found(portrait: Portrait) -> None:
    fx, fy, fw, fh = portrait.face
    left, right = portrait.eyes
    # Eyes in the upper half, one per side; the lip line in the lower third.
    assert left[0] + left[2] / 2 < fx + fw / 2 < right[0] + right[2] / 2
    assert fy < left[1] < fy + fh / 2 and fy < right[1] < fy + fh / 2
    assert fy + 0.6 * fh < portrait.mouth_y < fy + 0.95 * fh


def _error(path: Path) -> PortraitError:
    with pytest.raises(PortraitError) as info:
        load_portrait(path, persona=path.parent / "persona.yaml", line=7)
    err = info.value
    text = str(err)
    assert "\n" not in text and "persona.yaml:7: look.photo:" in text
    return err


def test_no_face_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "wall.png"
    Image.new("RGB", (400, 300), (120, 140, 160)).save(path)
    assert "no face found in 'wall.png'" in _error(path).message


def test_more_than_one_face_says_where_to_crop(tmp_path: Path) -> None:
    path = tmp_path / "pair.png"
    draw_portrait(900, 500, face_width=170, center=(250, 230),
                  extra_faces=((650, 230, 170),)).save(path)  # fmt: skip
    err = _error(path)
    assert "2 faces found" in err.message and err.message.count(" px at x=") == 2
    assert err.hint and "crop" in err.hint


def test_a_face_too_small_names_the_minimum(tmp_path: Path) -> None:
    path = tmp_path / "far.png"
    draw_portrait(400, 400, face_width=44).save(path)
    assert detect_faces(np.asarray(Image.open(path).convert("RGB")))  # found, but small
    err = _error(path)
    assert f"at least {MIN_FACE_PX} px" in err.message


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
        draw_portrait().save(path, format="GIF")
    elif isinstance(data, bytes):
        path.write_bytes(data)
    assert expected in _error(path).message


@pytest.mark.parametrize("size", [(320, 180), (180, 320), (160, 160)])
def test_exact_frame_count_and_size(portrait: Portrait, size: tuple[int, int]) -> None:
    w, h = size
    anim = PhotoAnimator(portrait, w, h, FPS)
    frames = list(anim.frames([(0.0, "sil"), (0.2, "aa")], 17))
    assert len(frames) == 17 and all(len(f) == w * h * 3 for f in frames)
    assert list(anim.frames([], 0)) == []


def test_deterministic_for_the_same_seed(portrait: Portrait) -> None:
    def digest(seed: int) -> str:
        h = hashlib.sha256()
        for f in PhotoAnimator(portrait, 160, 90, FPS, seed=seed).frames([(0.3, "aa")], 40):
            h.update(f)
        return h.hexdigest()

    assert digest(5) == digest(5) != digest(6)


def test_mouth_change_follows_the_viseme_timeline(portrait: Portrait) -> None:
    # Open and close at irregular times over 4 s.
    visemes: list[tuple[float, str]] = [(0.0, "sil")]
    for start, dur, v in [(0.3, 0.25, "aa"), (0.8, 0.2, "PP"), (1.2, 0.4, "O"), (2.0, 0.15, "E"),
                          (2.6, 0.5, "aa"), (3.4, 0.2, "kk")]:  # fmt: skip
        visemes += [(start, v), (start + dur, "sil")]
    anim = PhotoAnimator(portrait, 320, 180, FPS, seed=2)
    n = 4 * FPS
    frames = _frames(anim, visemes, n)
    rest = _crop(frames[0], anim.mouth_box)
    change = np.array([np.abs(_crop(f, anim.mouth_box) - rest).mean() for f in frames])
    openness = np.array([anim.openness(visemes, i / FPS) for i in range(n)])
    corr = float(np.corrcoef(change, openness)[0, 1])
    assert corr > 0.8, corr
    # Wide open moves the mouth region a lot; closed lips barely.
    assert change[openness > 0.9].mean() > 4 * change[openness < 0.05].mean()


def test_eyes_blink(portrait: Portrait) -> None:
    anim = PhotoAnimator(portrait, 320, 180, FPS, seed=9)
    n = 6 * FPS
    frames = _frames(anim, [(0.0, "sil")], n)
    blinks = anim.blinks(n / FPS)
    assert blinks, "no blink in six seconds"

    def whites(img: Frame) -> int:
        # Open eyes show white sclera; closed ones only skin.
        return int((_crop(img, anim.eyes_box).mean(axis=2) > 205).sum())

    open_eyes = whites(frames[0])
    assert open_eyes > 10
    for b in blinks:
        mid = round((b + 0.08) * FPS)
        if mid < n:
            assert whites(frames[mid]) < 0.2 * open_eyes
    outside = [i for i in range(n) if all(abs(i / FPS - (b + 0.08)) > 0.3 for b in blinks)]
    assert min(whites(frames[i]) for i in outside) > 0.6 * open_eyes


@pytest.mark.parametrize(
    ("size", "center"),
    [((480, 270), None), ((270, 480), None), ((480, 270), (110.0, 300.0))],
)
def test_face_stays_in_frame_and_is_still_a_face(
    tmp_path: Path, size: tuple[int, int], center: tuple[float, float] | None
) -> None:
    path = tmp_path / "p.png"
    # The third portrait has its face near the photo's corner: it is still framed centrally.
    draw_portrait(640, 480, face_width=150, center=center).save(path)
    anim = PhotoAnimator(load_portrait(path), *size, FPS, emotion="happy", seed=1)
    w, h = size
    fx, fy, fw, fh = anim.face
    assert fx >= 0 and fy >= 0 and fx + fw <= w and fy + fh <= h
    assert abs(fx + fw / 2 - w / 2) < 0.05 * w
    mx0, my0, mx1, my1 = anim.mouth_box  # the jaw's full travel, too
    assert mx0 >= 0 and my0 >= 0 and mx1 <= w and my1 <= h
    frames = _frames(anim, [(0.0, "sil"), (0.4, "E"), (0.9, "sil"), (1.4, "I")], 2 * FPS)
    for i in (0, 15, 35, 50):
        faces = detect_faces(frames[i])
        assert len(faces) == 1, (i, faces)
        x, y, bw, bh = faces[0]
        assert x >= 0 and y >= 0 and x + bw <= w and y + bh <= h


def test_emotion_curve_changes_the_face(portrait: Portrait) -> None:
    plain = _frames(PhotoAnimator(portrait, 160, 90, FPS, seed=1), [], 45)
    curved = _frames(
        PhotoAnimator(
            portrait, 160, 90, FPS, seed=1,
            emotion_curve=[(0.0, "neutral", 1.0), (1.0, "happy", 1.0)],
        ),
        [],
        45,
    )  # fmt: skip
    # Same start; by the end the smile has lifted the mouth corners.
    assert np.array_equal(plain[0], curved[0])
    assert np.abs(plain[44].astype(int) - curved[44].astype(int)).sum() > 0


def test_doctor_reports_face_detection() -> None:
    from personaforge.stages.doctor import run_checks

    [faces] = [c for c in run_checks({}) if c.name == "faces"]
    assert faces.ok and "Haar cascades" in faces.detail
