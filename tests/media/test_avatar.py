"""The drawn avatar: frame count and size, determinism, visemes, blinks, framing, camera moves."""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Sequence

import numpy as np
import pytest
from numpy.typing import NDArray

from personaforge.core.specs import Look
from personaforge.media.avatar import CAMERA_MOVES, EMOTIONS, VISEMES, AvatarAnimator

FPS = 30
LOOK = Look(skin="#e0ac69", shirt="#d02050", background="#1d2b3a", hair="#3b2a1a")


def _frames(
    anim: AvatarAnimator, visemes: Sequence[tuple[float, str]], n: int
) -> list[NDArray[np.uint8]]:
    shape = (anim.height, anim.width, 3)
    return [np.frombuffer(f, np.uint8).reshape(shape) for f in anim.frames(visemes, n)]


def _near(img: NDArray[np.uint8], hex_colour: str, tol: int = 14) -> NDArray[np.bool_]:
    c = np.array([int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)])
    return np.asarray(np.abs(img.astype(np.int32) - c).max(axis=2) <= tol)


def _crop(img: NDArray[np.uint8], box: tuple[int, int, int, int]) -> NDArray[np.uint8]:
    x0, y0, x1, y1 = box
    return img[y0:y1, x0:x1]


def _dark(img: NDArray[np.uint8]) -> int:
    luma = img[..., 0] * 0.299 + img[..., 1] * 0.587 + img[..., 2] * 0.114
    return int((luma < 60).sum())


def test_visemes_are_the_oculus_fifteen_in_order() -> None:
    assert VISEMES == (
        "sil", "PP", "FF", "TH", "DD", "kk", "CH", "SS", "nn", "RR", "aa", "E", "I", "O", "U",
    )  # fmt: skip


@pytest.mark.parametrize("size", [(160, 90), (90, 160), (96, 96)])
def test_exact_frame_count_and_byte_length(size: tuple[int, int]) -> None:
    w, h = size
    anim = AvatarAnimator(LOOK, w, h, FPS)
    frames = list(anim.frames([(0.0, "sil"), (0.2, "aa"), (0.4, "O")], 23))
    assert len(frames) == 23
    assert all(isinstance(f, bytes) and len(f) == w * h * 3 for f in frames)
    assert list(anim.frames([], 0)) == []


def test_frames_are_streamed_lazily() -> None:
    anim = AvatarAnimator(LOOK, 64, 36, FPS)
    # A clip far too big to hold in memory: only what is taken gets drawn.
    first_two = list(itertools.islice(anim.frames([(0.0, "aa")], 10**9), 2))
    assert [len(f) for f in first_two] == [64 * 36 * 3] * 2


def test_deterministic_for_the_same_inputs_and_seed() -> None:
    keys = [(0.0, "sil"), (0.3, "aa"), (0.5, "PP"), (0.8, "E"), (2.0, "O")]

    def digest(seed: int) -> str:
        anim = AvatarAnimator(LOOK, 120, 68, FPS, emotion="happy", camera="push_in", seed=seed)
        h = hashlib.sha256()
        for f in anim.frames(keys, 150):
            h.update(f)
        return h.hexdigest()

    assert digest(3) == digest(3)
    # The seed drives the blink and glance timing, so a different seed gives a different clip.
    assert digest(3) != digest(4)


def test_aa_opens_the_mouth_far_more_than_pp() -> None:
    anim = AvatarAnimator(LOOK, 320, 180, FPS)
    aa = _crop(anim.frame(0.5, "aa"), anim.mouth_box)
    pp = _crop(anim.frame(0.5, "PP"), anim.mouth_box)
    assert not np.array_equal(aa, pp)
    assert _dark(aa) > _dark(pp) >= 0
    assert _dark(aa) > 25  # a wide-open mouth, not a few stray pixels
    # Rounded O still opens the mouth; a closed PP shows no inner mouth at all.
    assert _dark(_crop(anim.frame(0.5, "O"), anim.mouth_box)) > _dark(pp)


def test_every_viseme_draws_its_own_mouth_shape() -> None:
    anim = AvatarAnimator(LOOK, 320, 180, FPS)
    mouths = {_crop(anim.frame(0.5, v), anim.mouth_box).tobytes() for v in VISEMES}
    assert len(mouths) == len(VISEMES)


def test_mouth_follows_the_keyframe_active_at_each_frame() -> None:
    anim = AvatarAnimator(LOOK, 320, 180, FPS)
    frames = _frames(anim, [(0.0, "PP"), (0.5, "aa"), (1.0, "PP")], 40)
    mouths = [_crop(f, anim.mouth_box) for f in frames]
    dark = [_dark(m) for m in mouths]
    assert dark[5] == dark[10] == 0  # PP: lips closed
    assert dark[15] > 25 and dark[20] > 25  # t = 0.5 s and later: aa
    assert np.array_equal(mouths[15], mouths[20])  # fully on the active shape at its key time
    assert dark[32] == 0  # back to PP after t = 1.0 s
    # Co-articulation: the frame just before a key is already on its way to the next shape.
    assert not np.array_equal(mouths[14], mouths[10])
    assert not np.array_equal(mouths[14], mouths[15])


def test_eyes_blink_within_six_seconds() -> None:
    anim = AvatarAnimator(LOOK, 320, 180, FPS, seed=1)
    frames = _frames(anim, [(0.0, "sil")], 6 * FPS)
    white = [int((_crop(f, anim.eyes_box).min(axis=2) > 215).sum()) for f in frames]
    assert max(white) > 20
    closed = [w < 0.3 * max(white) for w in white]
    assert any(closed)
    # Blinks are brief: ~150 ms each, every few seconds.
    assert sum(closed) <= 12


def _skin_centre(img: NDArray[np.uint8]) -> tuple[float, float, int]:
    ys, xs = np.nonzero(_near(img, LOOK.skin))
    return float(xs.mean()), float(ys.mean()), int(ys.size)


@pytest.mark.parametrize("size", [(90, 160), (180, 320), (160, 90), (320, 180), (200, 200)])
def test_face_is_centred_and_sized(size: tuple[int, int]) -> None:
    w, h = size
    img = AvatarAnimator(LOOK, w, h, FPS).frame(0.0, "sil")
    cx, cy, _ = _skin_centre(img)
    assert abs(cx - w / 2) < 0.05 * w
    assert cy < 0.6 * h
    # Head height (hair excluded) about half the shorter side.
    rows = np.nonzero(_near(img, LOOK.skin).any(axis=1))[0]
    assert 0.3 * min(w, h) < rows.max() - rows.min() < 0.75 * min(w, h)


def test_portrait_keeps_the_face_high_and_the_bottom_for_captions() -> None:
    w, h = 180, 320
    img = AvatarAnimator(LOOK, w, h, FPS).frame(0.0, "aa")
    _, cy, _ = _skin_centre(img)
    assert cy < 0.45 * h
    face = _near(img, LOOK.skin)
    assert not face[int(0.7 * h) :].any()


def test_look_colours_appear_where_they_belong() -> None:
    w, h = 320, 180
    img = AvatarAnimator(LOOK, w, h, FPS).frame(0.0, "sil")
    lower = img[int(0.8 * h) :]
    assert _near(lower, LOOK.shirt).mean() > 0.2
    assert not _near(img[: int(0.3 * h)], LOOK.shirt).any()
    assert _near(img, LOOK.skin).sum() > 0.03 * w * h
    assert _near(img[: int(0.5 * h)], LOOK.hair, tol=24).sum() > 50
    # The backdrop is a shade of the background colour: darkest at the bottom corners.
    corner = img[-3:, :3].reshape(-1, 3).mean(axis=0)
    bg = np.array([0x1D, 0x2B, 0x3A])
    assert np.abs(corner - bg * 0.62).max() < 20


@pytest.mark.parametrize("style", ["short", "long", "bun", "bald"])
@pytest.mark.parametrize("glasses", [False, True])
def test_every_hair_style_and_glasses_draw(style: str, glasses: bool) -> None:
    look = LOOK.model_copy(update={"hair_style": style, "glasses": glasses})
    plain = AvatarAnimator(LOOK.model_copy(update={"hair_style": "bald"}), 96, 96, FPS)
    img = AvatarAnimator(look, 96, 96, FPS).frame(0.0, "E")
    assert img.shape == (96, 96, 3)
    if (style, glasses) != ("bald", False):
        assert not np.array_equal(img, plain.frame(0.0, "E"))


def test_unknown_names_fall_back_instead_of_crashing() -> None:
    keys = [(0.0, "sil"), (0.1, "zz"), (0.2, "aa")]
    odd = AvatarAnimator(LOOK, 96, 54, FPS, emotion="ecstatic", camera="dolly_zoom")
    plain = AvatarAnimator(LOOK, 96, 54, FPS, emotion="neutral", camera="static")
    assert list(odd.frames(keys, 12)) == list(plain.frames(keys, 12))
    assert np.array_equal(odd.frame(0.0, "zz"), plain.frame(0.0, "sil"))


def test_viseme_names_are_case_insensitive() -> None:
    anim = AvatarAnimator(LOOK, 96, 54, FPS)
    assert np.array_equal(anim.frame(0.0, "AA"), anim.frame(0.0, "aa"))


@pytest.mark.parametrize("emotion", EMOTIONS)
def test_emotions_change_the_face(emotion: str) -> None:
    img = AvatarAnimator(LOOK, 160, 90, FPS, emotion=emotion).frame(0.0, "sil")
    neutral = AvatarAnimator(LOOK, 160, 90, FPS).frame(0.0, "sil")
    assert np.array_equal(img, neutral) == (emotion == "neutral")


def test_push_in_makes_the_face_larger_and_pull_out_smaller() -> None:
    for camera, grows in (("push_in", True), ("pull_out", False)):
        frames = _frames(AvatarAnimator(LOOK, 240, 135, FPS, camera=camera), [(0, "sil")], 45)
        start, end = _skin_centre(frames[0])[2], _skin_centre(frames[-1])[2]
        assert (end > start * 1.05) if grows else (end < start / 1.05)
        assert end < start * 1.25 if grows else end > start / 1.25  # subtle: <= 8 % zoom


def test_pans_move_the_face_sideways_a_little() -> None:
    w = 240
    moved = {}
    for camera in ("pan_left", "pan_right", "static"):
        frames = _frames(AvatarAnimator(LOOK, w, 135, FPS, camera=camera), [(0, "sil")], 30)
        moved[camera] = _skin_centre(frames[-1])[0] - _skin_centre(frames[0])[0]
    assert moved["pan_left"] > 2 and moved["pan_right"] < -2
    assert abs(moved["pan_left"]) <= 0.045 * w and abs(moved["pan_right"]) <= 0.045 * w
    assert abs(moved["static"]) < 0.5


@pytest.mark.parametrize("camera", CAMERA_MOVES)
def test_every_camera_move_renders_the_full_clip(camera: str) -> None:
    anim = AvatarAnimator(LOOK, 90, 160, FPS, camera=camera)
    frames = list(anim.frames([(0.0, "aa"), (0.1, "U")], 9))
    assert len(frames) == 9 and all(len(f) == 90 * 160 * 3 for f in frames)


def test_breathing_moves_the_person_but_not_the_backdrop() -> None:
    anim = AvatarAnimator(LOOK, 1920, 1080, FPS)
    still, breath = anim.frame(0.0, "sil"), anim.frame(1.05, "sil")  # a quarter breath later
    assert not np.array_equal(still, breath)
    assert np.array_equal(still[:40], breath[:40])  # the backdrop above the head stays put
    # The face moved as one piece, by a pixel or two.
    face = still[300:650, 880:1040]
    shifts = [d for d in range(-4, 5) if np.array_equal(face, breath[300 - d : 650 - d, 880:1040])]
    assert len(shifts) == 1 and 1 <= abs(shifts[0]) <= 2


def test_rejects_unusable_sizes() -> None:
    with pytest.raises(ValueError):
        AvatarAnimator(LOOK, 8, 8, FPS)
    with pytest.raises(ValueError):
        AvatarAnimator(LOOK, 160, 90, 0)


@pytest.mark.parametrize("camera", CAMERA_MOVES)
def test_yuv420p_frames_are_the_rgb_frames_converted(camera: str) -> None:
    """The encoder is fed yuv420p drawn straight from the avatar (camera moved in yuv): it
    must show what the rgb24 frames show, converted as ffmpeg would (BT.601, limited range)."""
    import cv2

    w, h, n = 320, 180, 24
    visemes = [(0.0, "aa"), (0.2, "O"), (0.4, "sil"), (0.6, "E")]
    rgb = _frames(AvatarAnimator(LOOK, w, h, FPS, camera=camera, seed=3), visemes, n)
    yuv = list(AvatarAnimator(LOOK, w, h, FPS, camera=camera, seed=3).frames_yuv420p(visemes, n))
    assert len(yuv) == n and all(len(f) == w * h * 3 // 2 for f in yuv)
    moved = 0
    for i, (a, b) in enumerate(zip(rgb, yuv, strict=True)):
        want = cv2.cvtColor(a, cv2.COLOR_RGB2YUV_I420).reshape(-1).astype(np.int32)
        got = np.frombuffer(b, np.uint8).astype(np.int32)
        diff = np.abs(want - got)
        # Warping chroma at its own resolution differs from subsampling the warped rgb only
        # along sharp colour edges: on average by a fraction of a level.
        assert diff[: w * h].mean() < 0.6 and diff[w * h :].mean() < 0.8, (camera, i)
        if camera == "static":  # drawn in yuv, the still is exactly the rgb one converted
            assert not diff.any(), i
        moved += i > 0 and not np.array_equal(got, np.frombuffer(yuv[0], np.uint8))
    assert moved  # the clip is not one still frame


@pytest.mark.parametrize("camera", [c for c in CAMERA_MOVES if c != "static"])
@pytest.mark.parametrize("size", [(320, 180), (180, 320), (64, 36)])
def test_camera_moves_worked_out_in_bands_lose_nothing(
    camera: str, size: tuple[int, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A move only warps, band by band, where the person can get to; warping the whole frame
    instead must give the same frames (to a level of rounding), through a nod and a breath."""
    w, h = size
    visemes = [(0.0, "aa"), (0.3, "O"), (0.6, "sil")]
    curve = [(0.0, "neutral", 0.0), (0.5, "excited", 1.0), (0.9, "excited", 1.0)]

    def clip() -> list[bytes]:
        anim = AvatarAnimator(LOOK, w, h, FPS, camera=camera, emotion_curve=curve)
        return list(anim.frames_yuv420p(visemes, 36)) + list(anim.frames(visemes, 36))

    banded = clip()
    monkeypatch.setattr(AvatarAnimator, "_move_bands", lambda self: [(0, 0, w, h)])
    whole = clip()
    for i, (a, b) in enumerate(zip(banded, whole, strict=True)):
        diff = np.abs(np.frombuffer(a, np.uint8).astype(np.int16) - np.frombuffer(b, np.uint8))
        # Only the warp's rounding differs (one 32nd of a pixel, on a few sharp edges).
        assert diff.max() <= 10 and (diff > 2).mean() < 0.001, (i, int(diff.max()))


def test_yuv420p_needs_an_even_frame_size() -> None:
    anim = AvatarAnimator(LOOK, 161, 90, FPS)
    with pytest.raises(ValueError, match="even"):
        next(anim.frames_yuv420p([(0.0, "sil")], 2))
