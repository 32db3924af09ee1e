"""Map IPA phonemes (espeak-ng, as piper emits them) to the 15 Oculus-style visemes."""

from __future__ import annotations

VISEMES: tuple[str, ...] = (
    "sil", "PP", "FF", "TH", "DD", "kk", "CH", "SS", "nn", "RR", "aa", "E", "I", "O", "U",
)  # fmt: skip

_MAP: dict[str, str] = {}
for _chars, _viseme in (
    ("pbm", "PP"),
    ("fv", "FF"),
    ("θð", "TH"),
    ("td", "DD"),
    ("kgŋxq", "kk"),
    ("ʃʒʧʤ", "CH"),
    ("sz", "SS"),
    ("nlɫ", "nn"),
    ("ɹrɾɚɝʁ", "RR"),
    ("aɑæʌɐ", "aa"),
    ("eɛəɜh", "E"),
    ("iɪjy", "I"),
    ("oɔɒ", "O"),
    ("uʊwɯ", "U"),
):
    for _c in _chars:
        _MAP[_c] = _viseme

# Stress and length marks shape no mouth: their time belongs to the sound they mark.
MODIFIERS = frozenset("ˈˌːˑ̃")


def viseme_for(phoneme: str) -> str | None:
    """The viseme of one phoneme; None for marks that carry no mouth shape of their own."""
    if phoneme in MODIFIERS:
        return None
    return _MAP.get(phoneme, "sil")
