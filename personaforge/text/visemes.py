"""Map IPA phonemes (espeak-ng, as piper emits them) to the 15 Oculus-style visemes, and
place a language's phonemes in the word times a cloud voice's alignment gave."""

from __future__ import annotations

VISEMES: tuple[str, ...] = (
    "sil", "PP", "FF", "TH", "DD", "kk", "CH", "SS", "nn", "RR", "aa", "E", "I", "O", "U",
)  # fmt: skip

_MAP: dict[str, str] = {}
for _chars, _viseme in (
    ("pbmɸβɓ", "PP"),
    ("fvʋ", "FF"),
    ("θð", "TH"),
    ("tdʈɖɗc", "DD"),
    ("kgɡŋxqɣχɢʔɠɟ", "kk"),
    ("ʃʒʧʤɕʑʂʐç", "CH"),
    ("sz", "SS"),
    ("nlɫɲɳɭʎʟ", "nn"),
    ("ɹrɾɚɝʁɽʀ", "RR"),
    ("aɑæʌɐ", "aa"),
    ("eɛəɜhɦħʕɘɤ", "E"),
    ("iɪjyʏɨ", "I"),
    ("oɔɒøœɵ", "O"),
    ("uʊwɯʉ", "U"),
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


def viseme_of(ipa: str) -> str | None:
    """The viseme of one phoneme as espeak-ng writes it in IPA ("ˈɛ", "tʃ", "s."): its first
    sound's; None where it has none (a stress mark alone)."""
    for char in ipa:
        if char in MODIFIERS or char in "'.ʰʲʷ̪̥̩̯͡":
            continue
        return _MAP.get(char, "sil")
    return None


def place_phonemes(
    words: list[list[tuple[float, str]]], spans: list[tuple[float, float]]
) -> list[tuple[float, str]]:
    """Visemes in time: each word's phonemes (fraction of the word 0..1, viseme) placed in
    that word's (start, end), closed with silence between words and at the end."""
    out: list[tuple[float, str]] = [(0.0, "sil")]

    def add(t: float, vis: str) -> None:
        t = round(t, 3)
        if out[-1][1] == vis:
            return
        if t <= out[-1][0]:
            out[-1] = (out[-1][0], vis)
        else:
            out.append((t, vis))

    last_end = 0.0
    for phones, (start, end) in zip(words, spans, strict=True):
        if start - last_end >= 0.08:
            add(last_end, "sil")
        for fraction, vis in phones:
            add(start + fraction * (end - start), vis)
        last_end = end
    if len(out) > 1:
        add(last_end, "sil")
    return out


def word_visemes(words: list[str], voice: str) -> list[list[tuple[float, str]]]:
    """Each word's visemes from its phonemes in the language of espeak-ng's ``voice``, as
    (fraction of the word's time, viseme): what the mouth does, to be placed in the times
    the voice itself took (place_phonemes)."""
    from personaforge.text import espeak

    text = " ".join(words)
    spoken = espeak.speak(text, voice)
    starts: list[int] = []  # character offset of each word
    pos = 0
    for word in words:
        starts.append(pos)
        pos += len(word) + 1

    def word_at(offset: int) -> int:
        k = 0
        while k + 1 < len(starts) and starts[k + 1] <= offset:
            k += 1
        return k

    per_word: list[list[tuple[int, str]]] = [[] for _ in words]
    for ph in spoken.phonemes:
        vis = viseme_of(ph.ipa)
        if vis is not None and words:
            per_word[word_at(ph.text_position)].append((ph.sample, vis))
    total = len(spoken.samples) // 2
    out: list[list[tuple[float, str]]] = []
    for k, phones in enumerate(per_word):
        if not phones:
            out.append([(0.0, "aa")] if any(c.isalpha() for c in words[k]) else [])
            continue
        first = phones[0][0]
        following = [p[0][0] for p in per_word[k + 1 :] if p]
        last = following[0] if following else total
        span = max(1, last - first)
        out.append([(min(1.0, (s - first) / span), v) for s, v in phones])
    return out
