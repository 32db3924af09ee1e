"""Commands for many videos: batch, the job queue (enqueue, worker, jobs) and cache gc."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from personaforge.cli.app import STATE, JsonOpt, NoWaitOpt, app, err, info
from personaforge.errors import ExitCode

RedisOpt = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option("--redis", help="Redis URL (default: $REDIS_URL)."),
]
QueueOpt = Annotated[str, typer.Option("--queue", help="Queue name.")]


def _money(usd: float) -> str:
    return f"${usd:.4f}"


@app.command()
def batch(
    projects: Annotated[list[Path], typer.Argument(help="Project folders.")],
    jobs: Annotated[int, typer.Option("--jobs", "-j", min=1, help="Projects made at once.")] = 1,
    as_json: JsonOpt = False,
    keep_going: Annotated[
        bool,
        typer.Option(
            "--keep-going/--fail-fast",
            help="After a failure, go on with the other projects (default), or start no more.",
        ),
    ] = True,
    no_publish: Annotated[bool, typer.Option("--no-publish", help="Stop after rendering.")] = False,
    with_translations: Annotated[
        bool,
        typer.Option(
            "--with-translations", help="Also each project's translations (DIR-es/, ...)."
        ),
    ] = False,
) -> None:
    """Make many projects with a pool of local worker processes; a summary table at the end.

    One line per project as it ends; exit 1 if any failed.
    """
    from personaforge.commands.batch import BatchItem, run_batch

    if with_translations:
        from personaforge.commands.translate import siblings

        projects = [p for folder in projects for p in [folder, *siblings(folder)]]

    total = len(projects)
    done = 0
    t0 = time.monotonic()

    def progress(item: BatchItem) -> None:
        nonlocal done
        done += 1
        if not STATE.quiet:  # reasons hold "[stage]": not Rich markup
            err.print(
                f"[{done}/{total}] {item.outcome:<7} {item.project}  {item.duration_s:.1f}s"
                f"  {_money(item.cost_usd)}  {item.reason}",
                markup=False,
            )

    items = run_batch(
        projects, jobs=jobs, keep_going=keep_going, publish=not no_publish, on_done=progress
    )
    counts = {o: sum(1 for i in items if i.outcome == o) for o in ("ok", "failed", "skipped")}
    cost = round(sum(i.cost_usd for i in items), 4)
    if as_json:
        print(json.dumps({"projects": [i.as_json() for i in items], **counts, "cost_usd": cost,
                          "duration_s": round(time.monotonic() - t0, 2)}))  # fmt: skip
    else:
        width = max([len(str(i.project)) for i in items] + [7])
        print(f"{'project':<{width}}  {'result':<7}  {'time':>7}  {'cost':>9}  reason")
        for i in items:
            print(
                f"{i.project!s:<{width}}  {i.outcome:<7}  {i.duration_s:>6.1f}s"
                f"  {_money(i.cost_usd):>9}  {i.reason}"
            )
        print(
            f"{counts['ok']} ok, {counts['failed']} failed, {counts['skipped']} skipped;"
            f" {_money(cost)} in {time.monotonic() - t0:.1f}s"
        )
    if counts["failed"]:
        raise typer.Exit(ExitCode.ERROR)


@app.command()
def enqueue(
    projects: Annotated[list[Path], typer.Argument(help="Project folders.")],
    redis_url: RedisOpt = None,
    queue: QueueOpt = "personaforge",
    as_json: JsonOpt = False,
) -> None:
    """Queue one make-video job per project on Redis (RQ); prints the job ids.

    Each project's inputs go up to its publish storage (S3/R2) as a content-addressed bundle,
    so a worker on any machine can make it.
    """
    from personaforge.queue.client import connect
    from personaforge.queue.client import enqueue as put

    done = put(connect(redis_url), projects, queue_name=queue)
    for e in done:
        if e.queued_before:
            info(f"{e.project} is already {e.queued_before} as {e.job_id}, with the same "
                  f"inputs (bundle {e.bundle[:12]}); not queued twice")  # fmt: skip
        else:
            info(f"queued {e.project} as {e.job_id} (bundle {e.bundle[:12]})")
    if as_json:
        print(json.dumps([{"project": str(e.project), "job": e.job_id, "bundle": e.bundle,
                           "queued_before": e.queued_before} for e in done]))  # fmt: skip
    else:
        for e in done:
            print(e.job_id)


@app.command()
def worker(
    burst: Annotated[bool, typer.Option("--burst", help="Quit when the queue is empty.")] = False,
    queue: Annotated[
        Optional[list[str]],  # noqa: UP045
        typer.Option("--queue", help="Queue to take jobs from (repeatable)."),
    ] = None,
    redis_url: RedisOpt = None,
) -> None:
    """Run queued make-video jobs: download, make, publish, record the URLs on the job."""
    from personaforge.queue.client import DEFAULT_QUEUE, connect
    from personaforge.queue.work import run_worker

    names = queue or [DEFAULT_QUEUE]
    info(f"worker on {', '.join(names)}{' (burst)' if burst else ''}")
    run_worker(connect(redis_url), names, burst=burst)


def _job_line(j: Any) -> str:
    extra = j.reason if j.status == "failed" else " ".join(j.published) or j.reason
    return f"{j.id}  {j.status:<9} {j.name:<20} {j.stage:<9} {j.attempts}x  {extra}".rstrip()


@app.command()
def jobs(
    args: Annotated[
        Optional[list[str]],  # noqa: UP045
        typer.Argument(help="A job id to show, or 'cancel ID'.", show_default=False),
    ] = None,
    as_json: JsonOpt = False,
    watch: Annotated[
        bool, typer.Option("--watch", help="Refresh every 2 s until every job has ended.")
    ] = False,
    redis_url: RedisOpt = None,
    queue: QueueOpt = "personaforge",
) -> None:
    """Show queued, running, finished and failed jobs with their stage and reason;
    `jobs ID` shows one, `jobs cancel ID` cancels (or stops) one."""
    from personaforge.queue.client import cancel, connect, get_job, list_jobs

    args = args or []
    if args and args[0] == "cancel":
        if len(args) != 2:
            raise typer.BadParameter("usage: personaforge jobs cancel ID")
        done = cancel(connect(redis_url), args[1])
        info(f"job {args[1]}: {done}")
        print(args[1])
        return
    if len(args) > 1:
        raise typer.BadParameter("give at most one job id (or 'cancel ID')")
    conn = connect(redis_url)
    while True:
        rows = [get_job(conn, args[0])] if args else list_jobs(conn, queue)
        if as_json:
            data: object = rows[0].as_json() if args else [r.as_json() for r in rows]
            print(json.dumps(data))
        else:
            for r in rows:
                print(_job_line(r))
            if not rows:
                info("no jobs")
        running = [r for r in rows if r.status in ("queued", "started", "scheduled", "deferred")]
        if not watch or not running:
            return
        time.sleep(2)
        if not as_json and err.is_terminal:
            print("\x1b[2J\x1b[H", end="")


cache_app = typer.Typer(help="The per-shot cache of speech and clips.", no_args_is_help=True)
app.add_typer(cache_app, name="cache")


@cache_app.command("gc")
def cache_gc(
    projects: Annotated[list[Path], typer.Argument(help="Project folders.")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only list what would be removed.")
    ] = False,
    no_wait: NoWaitOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Remove build files (old shots, old videos, temp leftovers) no manifest refers to."""
    from personaforge.commands.gc import collect
    from personaforge.core.project import Project

    report = []
    for folder in projects:
        found = collect(Project.open(folder), dry_run=dry_run, wait=not no_wait)
        verb = "would remove" if dry_run else "removed"
        info(f"{folder}: {verb} {len(found.removed)} files, {found.freed_bytes / 1e6:.1f} MB")
        report.append({"project": str(folder), "removed": [str(p) for p in found.removed],
                       "freed_bytes": found.freed_bytes})  # fmt: skip
        if not as_json:
            for path in found.removed:
                print(path)
    if as_json:
        print(json.dumps(report))
