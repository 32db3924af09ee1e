"""Fuzz: generated persona.yaml, video.yaml and script.md (well-formed, malformed and hostile:
alias bombs, odd keys, booleans as numbers, comments, fences, stray markup) through the
commands that render nothing (plan, estimate, status, make-video --dry-run). Each ends in
exit 0 or 1, never 3, never a traceback, and within a few seconds.

Bounded so that it costs ~20 s: a fixed number of examples, derandomized (the same cases
every run, so a failure is reproducible), no example database written. Cloud backends and
targets are left out: their checks are local, but a name resolved over the network could
wait on DNS here."""

from __future__ import annotations

import contextlib
import io
import os
import resource
import signal
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from personaforge.cli.main import main

CASE_LIMIT_S = 10  # a hang is a failure, not a stuck suite
EXAMPLES = 60

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(["host", "offline", "piper", "avatar", "joe", "youtube", "shorts", "cut",
                     "karaoke", "local", "320x180", "script.md", "logo.png", "#ffffff", "-x",
                     "../escape.png", "a:b", "1e9", "-1", "yes", "~", ""]),
)  # fmt: skip
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)

PERSONA = {"schema_version": 1, "name": "Tess", "archetype": "host"}
VIDEO = {"schema_version": 1, "title": "Fuzz", "script": "script.md", "resolution": "320x180"}
PERSONA_KEYS = {
    "schema_version": st.one_of(st.just(1), SCALARS),
    "name": st.one_of(st.just("Tess"), SCALARS),
    "archetype": st.one_of(st.sampled_from(["host", "coach", "teacher"]), SCALARS),
    "voice": st.one_of(
        st.fixed_dictionaries({}, optional={"backend": st.sampled_from(["piper", "nope", ""]),
                                            "voice": SCALARS, "speed": SCALARS,
                                            "variation": SCALARS}),
        VALUES,
    ),
    "look": st.one_of(
        st.fixed_dictionaries({}, optional={"skin": SCALARS, "glasses": SCALARS,
                                            "photo": SCALARS, "hair_style": SCALARS}),
        VALUES,
    ),
    "brain_prompt": SCALARS,
    "pronunciations": VALUES,
}  # fmt: skip
VIDEO_KEYS = {
    "schema_version": st.one_of(st.just(1), SCALARS),
    "title": st.one_of(st.just("Fuzz"), SCALARS),
    "script": st.one_of(st.just("script.md"), SCALARS),
    "script_text": SCALARS,
    "format": SCALARS,
    "resolution": st.one_of(st.just("320x180"), SCALARS),
    "backends": st.one_of(
        st.fixed_dictionaries({}, optional={"plan": st.sampled_from(["offline", "nope", ""]),
                                            "lipsync": st.sampled_from(["avatar", "x"])}),
        VALUES,
    ),
    "music": VALUES,
    "captions": VALUES,
    "transitions": VALUES,
    "brand": VALUES,
    "max_concurrency": SCALARS,
    "budget": SCALARS,
    "loudness": VALUES,
}  # fmt: skip


def _mapping(
    base: dict[str, Any], keys: dict[str, st.SearchStrategy[Any]]
) -> st.SearchStrategy[str]:
    """Mostly a valid file with a key or two fuzzed (so that the next file and the script are
    reached too), sometimes a hostile or broken one."""
    fuzzed = st.lists(st.sampled_from(sorted(keys)), max_size=1).flatmap(
        lambda names: st.fixed_dictionaries({k: keys[k] for k in names})
    )
    dumped = fuzzed.map(lambda d: yaml.safe_dump({**base, **d}, allow_unicode=True))
    return st.one_of(*[dumped] * 8, HOSTILE_YAML, dumped.map(_mangle))


def _bomb(levels: int, width: int) -> str:
    lines = ["name: A", 'l0: &l0 ["lol"]']
    lines += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * width)}]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


HOSTILE_YAML = st.one_of(
    st.builds(_bomb, st.integers(2, 30), st.integers(2, 12)),
    st.sampled_from([
        "? [a, b]\n: c\n", "? {a: 1}\n: c\n", "name: &a x\nb: *a\n", "[1, 2]\n", "just text\n",
        "a: [" * 300 + "\n", "name: !!python/object:os.system x\n", "--- \n...\n---\n",
        "name: A\nname: B\n", "\ufeffname: A\n", "\x00\x01\x02", "name: 'unterminated\n",
        "<<: {a: 1}\n", "1: one\n", "null: x\n", "true: 1\n",
    ]),
    st.text(alphabet="&*?[]{}!|>-:#'\"\n\t ,%@`~abc1", max_size=60),
)  # fmt: skip


def _mangle(text: str) -> str:
    # A valid file, cut short: how an editor crash or a full disk leaves one.
    return text[: max(0, len(text) * 2 // 3)]


LINES = st.one_of(
    st.sampled_from([
        "# A heading", "", "Hello there, this is a sentence to say.", "> A quoted line.",
        "> — Someone", "- a list item", "1. first", "```", "~~~", "```python", "---", "...",
        "| a | b |", "|---|---|", "<!-- a note -->", "<!--", "-->", "<!-- transition: dip -->",
        "<!-- captions: boxed -->", "<!-- lower-third: Ada | Maths -->", "<!-- text: Hi -->",
        "![](broll/x.jpg)", "![pip](nope.png)", "![](my pic.jpg)", "![](../../etc/passwd)",
        "[pause 2s] and *this* matters.", "Cost: $3.50 on 3/4/2025 at 10:30.", "x" * 3000,
        "😀 ünïcødé 日本語 العربية", "\x00\x07", "\t   indented", "[pause 99999s]",
    ]),
    st.builds(lambda n, v: f"<!-- {n}: {v} -->",
              st.sampled_from(["transition", "captions", "text", "lower-third", "nope"]),
              st.text(max_size=10)),
    st.text(max_size=40),
)  # fmt: skip
SCRIPTS = st.tuples(
    st.lists(LINES, max_size=10), st.sampled_from(["A sentence that is always there.", ""])
).map(lambda parts: "\n".join([*parts[0], parts[1]]))
COMMANDS = st.sampled_from([["plan"], ["estimate"], ["status"], ["make-video", "--dry-run"]])


class _Hang(Exception):
    pass


@contextlib.contextmanager
def _time_limit(seconds: int) -> Iterator[None]:
    def stop(_signum: int, _frame: object) -> None:
        raise _Hang(f"no answer within {seconds} s")

    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread can take an alarm; the suite runs tests there
        return
    previous = signal.signal(signal.SIGALRM, stop)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _run(args: list[str]) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            main(args)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        else:  # pragma: no cover - main always exits
            code = 0
    return code, err.getvalue()


# The process's peak when the fuzz starts (set by its first case, not at import: under
# pytest-xdist a worker runs other tests between the two, and their peaks are not the fuzz's).
_start_rss_kb: list[int] = []


@settings(
    max_examples=EXAMPLES,
    deadline=None,  # the alarm bounds each case; the first loads the voice and ffmpeg
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(persona=_mapping(PERSONA, PERSONA_KEYS), video=_mapping(VIDEO, VIDEO_KEYS),
       script=SCRIPTS, command=COMMANDS)  # fmt: skip
def test_any_input_is_exit_0_or_1_in_one_line(
    persona: str, video: str, script: str, command: list[str]
) -> None:
    if not _start_rss_kb:
        _start_rss_kb.append(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "p"
        folder.mkdir()
        (folder / "persona.yaml").write_text(persona, encoding="utf-8", errors="replace")
        (folder / "video.yaml").write_text(video, encoding="utf-8", errors="replace")
        (folder / "script.md").write_text(script, encoding="utf-8", errors="replace")
        with _time_limit(CASE_LIMIT_S):
            code, err = _run([*command, str(folder)])
    if os.environ.get("PF_FUZZ_STATS"):  # the spread of outcomes, when tuning the fuzz
        last = (err.strip().splitlines() or [""])[-1][:150]
        with open(os.environ["PF_FUZZ_STATS"], "a", encoding="utf-8") as fh:
            fh.write(f"{command[0]} {code} {last}\n")
    assert code in (0, 1), err
    assert "Traceback" not in err and "unexpected error" not in err, err
    if code == 1:
        assert err.strip().splitlines()[-1].startswith("error: "), err
    # A few hundred MB at most, for everything the fuzz ran (alias bombs included).
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - _start_rss_kb[0]) / 1024
    assert grown_mb < 600, grown_mb
