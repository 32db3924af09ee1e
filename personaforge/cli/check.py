"""`personaforge check`: the delivery report of a project's video or of a video file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from personaforge.cli.app import JsonOpt, app, err, info
from personaforge.errors import ExitCode

PLATFORM_HELP = "youtube, shorts, tiktok or instagram (default: the project's format's)."


def _platforms(incomplete: str) -> list[str]:
    from personaforge.delivery.rules import PLATFORMS

    return [p for p in PLATFORMS if p.startswith(incomplete)]


@app.command()
def check(
    target: Annotated[
        Path, typer.Argument(help="Project folder, or a video file (with its .vtt beside it).")
    ] = Path("."),
    platform: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(help=PLATFORM_HELP, autocompletion=_platforms, metavar="PLATFORM"),
    ] = None,
    as_json: JsonOpt = False,
    strict: Annotated[
        bool, typer.Option("--strict", help="Exit 1 if any rule fails (default: report only).")
    ] = False,
) -> None:
    """Check a video against a platform's rules: colour tags, GOPs, B-frames, edit lists,
    bitrates, loudness, true peak, A/V duration, faststart, captions, chapters."""
    from personaforge.delivery.check import check as run_check
    from personaforge.delivery.check import platform_for_format, target_of
    from personaforge.delivery.rules import PLATFORMS

    if platform is not None and platform not in PLATFORMS:
        raise typer.BadParameter(f"must be one of {', '.join(PLATFORMS)}", param_hint="--platform")
    what = target_of(target)
    if platform is None:
        platform = "youtube"
        if target.is_dir():
            from personaforge.core.project import Project

            platform = platform_for_format(Project.open(target).load_video().format)
    report = run_check(what, platform)
    print_report(report, as_json=as_json)
    if strict and report.failures:
        raise typer.Exit(ExitCode.ERROR)


def print_report(report: object, *, as_json: bool) -> None:
    from personaforge.delivery.check import Report

    assert isinstance(report, Report)
    if as_json:
        print(json.dumps(report.as_json()))
        return
    print(f"{report.video} for {report.platform}:")
    for row in report.rows:
        wanted = f"  (wanted {row.wanted})" if row.wanted and row.ok is False else ""
        print(f"  {row.mark:<4} {row.rule:<15} {row.measured}{wanted}")
    failed = len(report.failures)
    err.print(f"{failed} rule(s) failed" if failed else "every rule passed", markup=False)


def delivery_check(folder: Path, fmt: str | None) -> tuple[dict[str, object], bool]:
    """make-video's last step: the project's video checked for its format's platform, each
    failure a warning on stderr; what --json adds (the report, the chapters' note), and
    whether a rule failed."""
    from personaforge.core.project import Project
    from personaforge.delivery.check import check as run_check
    from personaforge.delivery.check import platform_for_format, target_of
    from personaforge.errors import PersonaForgeError

    try:
        what = target_of(folder)
        platform = platform_for_format(fmt or Project.open(folder).load_video().format)
        report = run_check(what, platform)
    except PersonaForgeError as exc:  # the video is made; a check that cannot run says so
        info(f"warning: the delivery check could not run: {exc}")
        return {"check": None}, False
    for row in report.failures:
        info(f"warning: {platform}: {row.rule}: {row.measured} (wanted {row.wanted})")
    if what.chapters_note:
        info(what.chapters_note)
    summary: dict[str, object] = {
        "chapters": str(what.chapters) if what.chapters else None,
        "chapters_note": what.chapters_note,
        "check": {**report.as_json(), "failed": [r.rule for r in report.failures]},
    }
    return summary, bool(report.failures)
