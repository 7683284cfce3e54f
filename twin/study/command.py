"""``twin study``: check the study, start or reach the cluster, run, summarize."""

from __future__ import annotations

import sys
from pathlib import Path

from twin.study.cluster import ClusterError, connect
from twin.study.plan import load_study
from twin.study.results import ResultsError
from twin.study.run import BudgetExceeded, ReferenceFailed, run_study

EXIT_SOME_FAILED = 1


class StudyUsageError(Exception):
    """Reported by the command line as one message, exit code 2."""


def study_command(
    study_file: Path,
    out: Path,
    *,
    workers: int | None,
    scheduler: str | None,
    cluster_file: Path | None,
    resume: bool,
    quiet: bool,
) -> int:
    plan = load_study(study_file)  # a ScenarioError lists every problem
    if out.exists() and not out.is_dir():
        raise StudyUsageError(f"twin study: --out {out} is a file; give a folder")
    if not out.absolute().parent.is_dir():
        raise StudyUsageError(f"twin study: the folder of {out} does not exist")
    progress = None if quiet else sys.stderr
    runs = len(plan.runs) - 1
    if progress is not None:
        kind = "sweep" if plan.study.sweep is not None else "Monte Carlo"
        print(
            f"twin study: {plan.study.study.name}: a {kind} of {runs:,} runs of "
            f"{plan.scenario.scenario.name}, plus its reference run -> {out}",
            file=progress,
        )
    try:
        with connect(workers=workers, scheduler=scheduler, cluster_file=cluster_file) as client:
            tally = run_study(plan, out, client, resume=resume, progress=progress)
    except (ResultsError, ClusterError, BudgetExceeded, ReferenceFailed) as exc:
        raise StudyUsageError(f"twin study: {exc}") from None
    except OSError as exc:  # a results part that cannot be written (a full disk)
        where = f" {exc.filename}" if exc.filename else f" in {out}"
        raise StudyUsageError(
            f"twin study: cannot write{where}: {exc.strerror or exc}; every "
            f"run stored before is kept, add --resume to go on"
        ) from None
    except KeyboardInterrupt:
        print(
            f"twin study: stopped; every finished run is kept in {out}; add --resume to go on",
            file=sys.stderr,
        )
        raise
    if progress is not None:
        from twin.study.analysis import summary_lines

        for line in summary_lines(out):
            print(line, file=progress)
    if tally.failed:
        print(f"twin study: {tally.failed} of {tally.done} runs failed:", file=sys.stderr)
        for line in tally.failures[:20]:
            print(f"  {line}", file=sys.stderr)
        return EXIT_SOME_FAILED
    return 0
