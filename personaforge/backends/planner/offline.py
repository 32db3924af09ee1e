"""The offline director: splits a Markdown or text script into shots, deterministically."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import get_args

from personaforge.backends.base import Planner
from personaforge.backends.rates import Rates
from personaforge.core.manifests import CARD_KINDS, PlannedShot, ShotKind
from personaforge.core.specs import Captions, Persona, Transitions
from personaforge.errors import PersonaForgeError
from personaforge.text import sentences

_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
# Shot syntax (see README, "Shot kinds in the script"):
#   ![](broll/city.jpg)      the next paragraph is b-roll with voice over
#   ![pip](broll/city.jpg)   ... with the persona in a corner
#   <!-- lower-third: Ada Lovelace | Mathematician -->   the next shot shows a name strap
#   > A quoted line.         a quote card (a last line "> — Name" credits it)
#   <!-- transition: crossfade -->   how the next shot follows (cut, crossfade, dip)
#   <!-- captions: bold-pop -->      the next paragraph's caption style
#   <!-- text: Three things to know -->   on-screen text over the next shot (not a card)
# The path may hold spaces, bare (![](my pic.jpg)) or in <> (![](<my pic.jpg>)).
_IMAGE = re.compile(r"^\s*!\[([^\]]*)\]\(\s*(?:<([^>]+)>|([^)\"]*?))(?:\s+\"[^\"]*\")?\s*\)\s*$")
_INLINE_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)")
_LOWER_THIRD = re.compile(r"^\s*<!--\s*lower[- ]third\s*(?::\s*(.*?))?\s*-->\s*$", re.I)
_CAPTIONS = re.compile(r"^\s*<!--\s*captions\s*:\s*(karaoke|clean|bold-pop|boxed)\s*-->\s*$", re.I)
_ON_SCREEN = re.compile(r"^\s*<!--\s*text\s*:\s*(.*?)\s*-->\s*$", re.I)
_TRANSITION = re.compile(r"^\s*<!--\s*transition\s*:\s*(cut|crossfade|dip)\s*-->\s*$", re.I)
_QUOTE = re.compile(r"^\s{0,3}>\s?(.*)$")
_CREDIT = re.compile(r"^(?:—|–|--|-)\s*(.+)$")
_LIST = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_EMPH = re.compile(r"(\*\*|__|`)")
_CODE_SPAN = re.compile(r"(`+)(.+?)\1")
# What the script holds that is not spoken (README, "What is not spoken"): front matter,
# fenced code, table rows, and HTML comments that are not one of the directives below.
_FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")
_TABLE_ROW = re.compile(r"^\s*\|")
_COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.S)
_DIRECTIVE_NAME = re.compile(r"^<!--\s*([a-z][a-z -]*?)\s*(?::(.*?))?\s*(?:-->)?$", re.I | re.S)
# A directive whose value must be one of a few; the others take free text.
_CHOICES: dict[str, tuple[str, ...]] = {
    "transition": get_args(Transitions.model_fields["style"].annotation),
    "captions": get_args(Captions.model_fields["style"].annotation),
}
_FREE = {"lower-third", "lower third", "text"}
MIN_WORDS = 4
# The longest word kept whole (a long URL is longer than any real word); captions allow 42
# characters a line by default.
MAX_WORD_CHARS = 40
# A shot longer than this is split: the voice's memory and time grow fast with sentence
# length (a 600-word sentence needs ~4 GB), and long shots make dull video.
MAX_WORDS = 35
_CLAUSE_END = re.compile(r"[,;:—–]+[\"'”’)\]]*$")

_EMOTION_WORDS = {
    "happy": {"great", "love", "happy", "amazing", "welcome", "wonderful", "fun", "glad", "thanks"},
    "serious": {"warning", "risk", "careful", "sorry", "unfortunately", "never", "danger", "must"},
    "calm": {"calm", "relax", "breathe", "slowly", "gently", "quiet", "rest"},
}
_CAMERAS = ("static", "push_in", "pan_left", "static", "pull_out", "pan_right")


class ScriptError(PersonaForgeError):
    """A problem at a line of the script; the caller names the file (script.md)."""


def unspoken_removed(script: str) -> list[str]:
    """The script's lines, with what is never spoken blanked (so line numbers and paragraph
    breaks stay): front matter, fenced code blocks, table rows, and HTML comments that are
    not a known directive. A known directive with a bad value is a ScriptError at its line."""
    lines = script.splitlines()
    out = list(lines)
    start = 0
    if lines and lines[0].strip() == "---":
        end = next((i for i in range(1, len(lines)) if lines[i].strip() in ("---", "...")), None)
        if end is not None:
            out[: end + 1] = [""] * (end + 1)
            start = end + 1
    fence: str | None = None
    for i in range(start, len(lines)):
        opened = _FENCE.match(lines[i])
        if fence is not None:
            mark = opened.group(1) if opened else ""
            closes = mark[:1] == fence[0] and len(mark) >= len(fence)
            if closes and not lines[i].strip().strip(fence[0]):
                fence = None
            out[i] = ""
        elif opened:
            fence = opened.group(1)  # unclosed: code to the end, as CommonMark reads it
            out[i] = ""
        elif _TABLE_ROW.match(lines[i]):
            out[i] = ""
    text = "\n".join(out)

    def comment(match: re.Match[str]) -> str:
        body = match.group(0)
        line = text.count("\n", 0, match.start()) + 1
        before = text[text.rfind("\n", 0, match.start()) + 1 : match.start()]
        after_end = text.find("\n", match.end())
        after = text[match.end() : after_end if after_end >= 0 else len(text)]
        named = _DIRECTIVE_NAME.match(body)
        name = " ".join(named.group(1).lower().split()) if named else ""
        if named and (name in _CHOICES or name in _FREE) and "\n" not in body:
            if before.strip() or after.strip():
                raise ScriptError(f"a <!-- {name}: --> directive must be a line of its own",
                                  line=line)  # fmt: skip
            value = (named.group(2) or "").strip()
            choices = _CHOICES.get(name)
            if choices is not None and value.lower() not in choices:
                raise ScriptError(
                    f"<!-- {name}: {value} -->: unknown {name} {value!r}; "
                    f"one of {', '.join(choices)}",
                    line=line,
                )
            return body
        # The author's note: never spoken or shown; its lines stay, empty.
        return "\n" * body.count("\n")

    text = _COMMENT.sub(comment, text)
    return text.split("\n") if text else []


def images(script: str) -> list[tuple[int, str]]:
    """(line, path) of every image or clip the script shows (``![](path)``)."""
    found = []
    for n, raw in enumerate(unspoken_removed(script), start=1):
        image = _IMAGE.match(raw)
        if image:
            path = (image.group(2) or image.group(3) or "").strip()
            if path:
                found.append((n, path))
    return found


def _inert_code(match: re.Match[str]) -> str:
    # Markup inside `code` is not obeyed: its words are said, without the brackets or stars.
    return re.sub(r"[\[\]*]", "", match.group(2))


def _clean(line: str) -> str:
    line = _CODE_SPAN.sub(_inert_code, line)
    line = _INLINE_IMAGE.sub("", line)
    line = _LINK.sub(r"\1", line)
    line = _EMPH.sub("", line)
    return " ".join(_broken(w) for w in _LIST.sub("", line).split())


def _unspaced(char: str) -> bool:
    # Scripts written without spaces between words (Thai, Lao, Myanmar, Khmer, CJK): a long
    # run is a sentence, which the caption layout breaks by its own rules.
    code = ord(char)
    return (
        0x0E00 <= code <= 0x0EFF
        or 0x1000 <= code <= 0x109F
        or 0x1780 <= code <= 0x17FF
        or (code >= 0x2E80)
    )


def _broken(word: str) -> str:
    """A word longer than any caption line can hold, broken into pieces that fit: one of
    3,000 characters shrank its caption to a line a pixel high."""
    if len(word) <= MAX_WORD_CHARS or any(_unspaced(c) for c in word):
        return word
    return " ".join(word[i : i + MAX_WORD_CHARS] for i in range(0, len(word), MAX_WORD_CHARS))


def split_sentences(paragraph: str, language: str = "en") -> list[str]:
    """The paragraph's sentences, by the one splitter every stage shares (text/sentences.py)."""
    return sentences.split_sentences(paragraph, language)


@dataclass
class Block:
    """A run of script that becomes one or more shots of one kind."""

    kind: ShotKind
    text: str
    media: str | None = None
    name: str | None = None
    role: str | None = None
    transition: str | None = None
    captions: str | None = None
    on_screen: str | None = None


def paragraphs(script: str) -> list[tuple[str, str]]:
    """(kind, text) blocks: headings become ('title', text), prose ('talking', paragraph)."""
    return [(b.kind, b.text) for b in blocks(script)]


def blocks(script: str) -> list[Block]:
    """The script's blocks: headings, prose paragraphs, and the shot syntax applied to them."""
    out: list[Block] = []
    buf: list[str] = []
    quote: list[str] = []
    pending: dict[str, str | None] = {}
    transition: list[str] = []  # how the next block follows the one before

    style: list[str] = []  # the next block's caption style
    shown: list[str] = []  # the next block's on-screen text

    def add(block: Block) -> None:
        if transition:
            block.transition = transition.pop()
        if style:
            block.captions = style.pop()
        if shown:
            block.on_screen = shown.pop()
        out.append(block)

    def flush() -> None:
        if buf:
            text = " ".join(buf).strip()
            if text:
                media = pending.pop("media", None)
                pip = pending.pop("pip", None)
                kind: ShotKind = ("pip" if pip else "broll") if media else "talking"
                block = Block(kind, text, media=media)
                if "lower_third" in pending:
                    pending.pop("lower_third")
                    block.name, block.role = pending.pop("name", None), pending.pop("role", None)
                    block.kind = "lower_third" if kind == "talking" else kind
                add(block)
            buf.clear()
        if quote:
            lines = [ln for ln in quote if ln]
            credit = _CREDIT.match(lines[-1]) if len(lines) > 1 else None
            text = " ".join(lines[:-1] if credit else lines).strip()
            if text:
                add(Block("quote", text, name=credit.group(1).strip() if credit else None))
            quote.clear()

    for raw in unspoken_removed(script):
        heading = _HEADING.match(raw)
        image = _IMAGE.match(raw)
        strap = _LOWER_THIRD.match(raw)
        cut = _TRANSITION.match(raw)
        looks = _CAPTIONS.match(raw)
        headline = _ON_SCREEN.match(raw)
        quoted = _QUOTE.match(raw)
        if heading:
            flush()
            text = _clean(heading.group(2))
            if text:
                add(Block("title", text))
        elif image:
            flush()
            pending["media"] = (image.group(2) or image.group(3) or "").strip() or None
            pending["pip"] = "pip" if image.group(1).strip().lower() == "pip" else None
        elif looks:
            flush()
            style[:] = [looks.group(1).lower()]
        elif cut:
            flush()
            transition[:] = [cut.group(1).lower()]
        elif headline:
            flush()
            text = " ".join(headline.group(1).split())
            shown[:] = [text] if text else []
        elif strap:
            flush()
            name, _, role = (strap.group(1) or "").partition("|")
            pending.update(lower_third="1", name=name.strip() or None, role=role.strip() or None)
        elif quoted:
            if buf:
                flush()
            quote.append(_clean(quoted.group(1)))
        elif not raw.strip():
            flush()
        else:
            if quote:
                flush()
            if _LIST.match(raw):
                flush()
            cleaned = _clean(raw)
            if cleaned:
                buf.append(cleaned)
    flush()
    return out


def split_long(text: str, limit: int = MAX_WORDS) -> list[str]:
    """Split ``text`` into pieces of at most ``limit`` words, at clause ends where possible."""
    words = text.split()
    if len(words) <= limit:
        return [text]
    # The clause end nearest the middle of the allowed range, else a hard cut at the limit.
    candidates = [i + 1 for i in range(limit // 3, limit) if _CLAUSE_END.search(words[i])]
    cut = min(candidates, key=lambda i: abs(i - limit * 2 // 3)) if candidates else limit
    return [" ".join(words[:cut]), *split_long(" ".join(words[cut:]), limit)]


def emotion_for(text: str) -> str:
    words = {w.strip(".,!?;:\"'()").lower() for w in text.split()}
    for emotion, cue_words in _EMOTION_WORDS.items():
        if words & cue_words:
            return emotion
    if text.rstrip("\"'”’)").endswith("!"):
        return "excited"
    if text.rstrip("\"'”’)").endswith("?"):
        return "curious"
    return "neutral"


def camera_for(text: str, emotion: str) -> str:
    if emotion == "excited":
        return "push_in"
    # Chosen from the shot's own text so editing one sentence never changes another shot.
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return _CAMERAS[digest[0] % len(_CAMERAS)]


class OfflinePlanner(Planner):
    name = "offline"
    version = "1"
    language = "en"  # the script's language, set by the plan stage

    def plan(self, script: str, persona: Persona) -> list[PlannedShot]:
        shots: list[PlannedShot] = []
        for block in blocks(script):
            made = self._shots(block, persona)
            if block.transition and made:
                made[0].transition = block.transition  # type: ignore[assignment]
            if block.on_screen and made:
                made[0].on_screen_text = block.on_screen
            for shot in made if block.captions else []:
                shot.captions = block.captions  # type: ignore[assignment]
            shots += made
        for i, shot in enumerate(shots, start=1):
            shot.id = f"shot-{i:03d}"
        return shots

    def _shots(self, block: Block, persona: Persona) -> list[PlannedShot]:
        if block.kind in CARD_KINDS:
            return [
                PlannedShot(id="", kind=block.kind, text=piece, camera="static", name=block.name)
                for piece in split_long(block.text)
            ]
        made: list[PlannedShot] = []
        pending = ""
        for sentence in split_sentences(block.text, self.language):
            pending = f"{pending} {sentence}".strip()
            if len(pending.split()) >= MIN_WORDS:
                made += [self._talking(piece) for piece in split_long(pending)]
                pending = ""
        if pending:
            made += [self._talking(piece) for piece in split_long(pending)]
        for i, shot in enumerate(made):
            if block.kind in ("broll", "pip"):
                shot.kind, shot.broll = block.kind, block.media
            elif block.kind == "lower_third" and i == 0:
                # The strap introduces the speaker once, on the paragraph's first shot.
                shot.kind = "lower_third"
                shot.name = block.name or persona.name
                shot.role = block.role if block.name else (block.role or persona.archetype)
        return made

    @staticmethod
    def _talking(text: str) -> PlannedShot:
        emotion = emotion_for(text)
        return PlannedShot(
            id="", kind="talking", text=text, emotion=emotion, camera=camera_for(text, emotion)
        )


RATES = Rates(per_call_s=0.1)  # splitting the script: measured well under 0.1 s a minute
