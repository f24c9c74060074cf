"""The ``matcher`` command line. Thin: it reads options, calls the library, prints.

A user's mistake (a bad file, an unknown id) is reported as ``error: ...`` naming the
file, row or field, with exit status 2, never as a traceback.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.text import Text

from matcher.errors import MatcherError

if TYPE_CHECKING:
    from matcher.bench.compare import Delta
    from matcher.model import Instance
    from matcher.result import Params, Result

app = typer.Typer(
    help="Match children with SEND to short-break care: rules with reasons, ranked matches.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
console = Console()
err = Console(stderr=True)

InstancePath = Annotated[Path, typer.Argument(help="Instance file (.json, .yaml or .yml).")]


@app.command()
def schema(
    out: Annotated[Path | None, typer.Option(help="Write to this file instead of stdout.")] = None,
) -> None:
    """Print the JSON Schema of an instance file."""
    from matcher.formats.files import write_text_atomic
    from matcher.model import Instance

    text = json.dumps(Instance.model_json_schema(), indent=2) + "\n"
    if out is None:
        sys.stdout.write(text)
    else:
        write_text_atomic(out, text)


@app.command()
def validate(instance: InstancePath) -> None:
    """Check an instance file and summarise it."""
    from matcher.formats.files import load_instance

    loaded = load_instance(instance)
    overnight = sum(1 for r in loaded.referrals if r.service.is_overnight)
    console.print(
        f"{instance}: valid. {len(loaded.providers)} providers, {len(loaded.referrals)} "
        f"referrals ({overnight} overnight), {len(loaded.settings.districts)} districts, "
        f"{len(loaded.settings.time_slots)} time slots."
    )


@app.command()
def rank(
    instance: InstancePath,
    referral: Annotated[str, typer.Option("--referral", "-r", help="Referral id.")],
    top: Annotated[int | None, typer.Option(min=1, help="Show only the best K.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    csv_file: Annotated[
        Path | None, typer.Option("--csv", help="Write the shortlist to this CSV file.")
    ] = None,
    xlsx_file: Annotated[
        Path | None,
        typer.Option("--xlsx", help="Write the shortlist and who is ruled out to this workbook."),
    ] = None,
) -> None:
    """Rank every provider for one referral: who may take the child, best first, and why not."""
    from matcher.formats.files import load_instance
    from matcher.formats.spreadsheets import shortlist_tables, spreadsheet_path, write_tables
    from matcher.ranking import rank as rank_referral
    from matcher.render import print_ranking

    if csv_file is not None:
        spreadsheet_path(csv_file, ".csv")
    if xlsx_file is not None:
        spreadsheet_path(xlsx_file, ".xlsx")
    loaded = load_instance(instance)
    ranking = rank_referral(loaded, referral, top=top)
    for path in (csv_file, xlsx_file):
        if path is not None:
            write_tables(path, shortlist_tables(loaded, ranking))
    if as_json:
        sys.stdout.write(json.dumps(ranking.to_dict(), indent=1, ensure_ascii=False) + "\n")
    else:
        print_ranking(console, loaded, ranking)


@app.command("import-csv")
def import_csv(
    providers: Annotated[Path, typer.Option(help="Provider register CSV.")],
    referrals: Annotated[Path, typer.Option(help="Referral list CSV.")],
    out: Annotated[Path, typer.Option(help="Instance file to write (.json or .yaml).")],
    units: Annotated[Path | None, typer.Option(help="Overnight units CSV.")] = None,
    settings: Annotated[
        Path | None,
        typer.Option(help="Settings (JSON/YAML): only the fields that differ from Lancashire's."),
    ] = None,
) -> None:
    """Turn a provider register CSV and a referral list CSV into an instance file."""
    from matcher.counties import lancashire
    from matcher.formats.csv import import_csv as read_csv
    from matcher.formats.files import load_settings, save_instance

    council = load_settings(settings, lancashire.settings()) if settings else lancashire.settings()
    loaded = read_csv(providers, referrals, council, units_csv=units)
    save_instance(loaded, out)
    console.print(
        f"wrote {out}: {len(loaded.providers)} providers, {len(loaded.referrals)} referrals"
    )


@app.command()
def template(
    directory: Annotated[Path, typer.Argument(help="Folder for the example CSV files.")],
    force: Annotated[bool, typer.Option(help="Overwrite existing files.")] = False,
) -> None:
    """Write example CSVs (providers, referrals, units) whose header row explains itself."""
    from matcher.counties import lancashire
    from matcher.formats.csv import write_templates

    for path in write_templates(directory, lancashire.settings(), overwrite=force):
        console.print(f"wrote {path}")


@app.command()
def generate(
    out: Annotated[Path, typer.Option(help="Instance file to write (.json or .yaml).")],
    referrals: Annotated[int, typer.Option(min=1, max=50_000, help="Number of referrals.")] = 700,
    providers: Annotated[
        int | None, typer.Option(min=3, help="Number of providers (default: referrals / 10).")
    ] = None,
    seed: Annotated[
        int, typer.Option(min=0, help="Random seed; the same seed gives the same file.")
    ] = 0,
) -> None:
    """Generate a realistic Lancashire-shaped instance."""
    from matcher.counties.generate import generate as make
    from matcher.formats.files import save_instance

    instance = make(referrals, providers, seed=seed)
    save_instance(instance, out)
    console.print(
        f"wrote {out}: {len(instance.providers)} providers, {len(instance.referrals)} referrals"
    )


@app.command()
def reasons(
    markdown: Annotated[bool, typer.Option(help="Print the catalogue as markdown.")] = False,
) -> None:
    """List the reason codes: what each rule says and where it comes from."""
    from rich.table import Table

    from matcher.rules.catalogue import CATALOGUE, catalogue_markdown

    if markdown:
        sys.stdout.write(catalogue_markdown())
        return
    table = Table()
    table.add_column("code", no_wrap=True)
    table.add_column("kind")
    table.add_column("rule")
    table.add_column("source")
    for entry in CATALOGUE.values():
        table.add_row(entry.code.value, entry.kind.value, entry.rule, entry.source)
    console.print(table)


Effort = Annotated[
    str,
    typer.Option(
        help="How hard to search: quick, standard or thorough (a deterministic budget: the "
        "same answer on every run, however busy the machine)."
    ),
]
Budget = Annotated[
    float | None,
    typer.Option(min=0.01, help="The budget in deterministic seconds (overrides --effort)."),
]
TimeLimit = Annotated[
    float | None,
    typer.Option(
        min=0.1,
        help="Wall-clock safety cap in seconds (default 60 + 40 × the budget); a solve it "
        "stops says so, and may differ between runs.",
    ),
]
Workers = Annotated[int, typer.Option(min=1, max=64, help="Threads the search may use.")]
ExecutorOption = Annotated[
    str,
    typer.Option(
        "--executor",
        help="Where independent solves run: local worker processes, or the scheduler of a "
        "Dask cluster as dask://HOST:PORT (pip install 'matcher[dask]'). The answers are the "
        "same either way.",
    ),
]


def _params(
    effort: str, budget: float | None, time_limit: float | None, workers: int, **more: object
) -> Params:
    from matcher.errors import InputError
    from matcher.errors import Problem as Issue
    from matcher.executor import checked
    from matcher.result import Effort as Efforts
    from matcher.result import Params

    if effort not in {e.value for e in Efforts}:
        raise InputError([Issue("--effort", f"{effort!r} is not quick, standard or thorough")])
    checked(str(more.get("executor", "local")), "--executor")
    return Params.model_validate(
        {"effort": effort, "budget": budget, "time_limit": time_limit, "workers": workers, **more}
    )


@app.command()
def allocate(
    instance: InstancePath,
    effort: Effort = "standard",
    budget: Budget = None,
    time_limit: TimeLimit = None,
    workers: Workers = 2,
    allow_moves: Annotated[
        bool, typer.Option(help="Existing placements may move to another provider.")
    ] = False,
    executor: ExecutorOption = "local",
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    out: Annotated[Path | None, typer.Option(help="Write the result (JSON) to this file.")] = None,
    csv_file: Annotated[
        Path | None,
        typer.Option("--csv", help="Write who goes where (and who waits) to this CSV file."),
    ] = None,
    xlsx_file: Annotated[
        Path | None,
        typer.Option("--xlsx", help="Write who goes where and the totals to this workbook."),
    ] = None,
) -> None:
    """Allocate the waiting list: day referrals to staff-hours, overnight to bed-nights."""
    from matcher.allocate import allocate as allocate_all
    from matcher.formats.files import load_instance, writable_file, write_text_atomic
    from matcher.formats.spreadsheets import allocation_tables, spreadsheet_path, write_tables
    from matcher.render import print_result

    # Every file checked before the solve, not after.
    if out is not None:
        writable_file(out)
    if csv_file is not None:
        spreadsheet_path(csv_file, ".csv")
    if xlsx_file is not None:
        spreadsheet_path(xlsx_file, ".xlsx")
    loaded = load_instance(instance)
    params = _params(
        effort, budget, time_limit, workers, allow_moves=allow_moves, executor=executor
    )
    # On the terminal, a progress display; for --json, nothing but the JSON.
    result = allocate_all(loaded, params) if as_json else _allocate_with_progress(loaded, params)
    text = result.model_dump_json(indent=1) + "\n"
    if out is not None:
        write_text_atomic(out, text)
    for path in (csv_file, xlsx_file):
        if path is not None:
            write_tables(path, allocation_tables(loaded, result))
    if as_json:
        sys.stdout.write(text)
    else:
        print_result(console, loaded, result)


def _allocate_with_progress(instance: Instance, params: Params) -> Result:
    """``allocate`` with a progress display on the terminal: what is being solved, the
    share of the search's budget used, the time taken and an estimate of what is left."""
    from rich.progress import (
        BarColumn,
        Progress,
        SpinnerColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from matcher.allocate import allocate as allocate_all

    with Progress(
        SpinnerColumn(),
        "{task.description}",
        BarColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task("preparing", total=1.0)
        return allocate_all(
            instance,
            params,
            progress=lambda share: bar.update(task, completed=share),
            stage=lambda words: bar.update(task, description=f"Allocating {words}"),
        )


@app.command()
def check(
    instance: InstancePath,
    result: Annotated[Path, typer.Argument(help="Result file written by matcher allocate.")],
) -> None:
    """Check an allocation independently: every rule, capacity per slot, every objective level."""
    from pydantic import ValidationError

    from matcher.check import check as check_result
    from matcher.formats.files import load_instance, read_document
    from matcher.model import problems_from_validation
    from matcher.result import Result

    loaded = load_instance(instance)
    try:
        allocation = Result.model_validate(read_document(result))
    except ValidationError as exc:
        raise MatcherError(problems_from_validation(exc), source=str(result)) from None
    violations = check_result(loaded, allocation)
    for violation in violations:
        console.print(Text(str(violation)))
    if violations:
        console.print(f"{len(violations)} violations.")
        raise typer.Exit(1)
    nights = ""
    if allocation.overnight is not None:
        given = sum(c.allocated for c in allocation.overnight.children)
        nights = f" and {given} bed-nights"
    console.print(
        f"No violations: {len(allocation.placements)} placements{nights} keep every rule, "
        f"capacity and objective value."
    )


bench_app = typer.Typer(
    help="Measure quality and time on fixed suites, against greedy, bounds, plain CP-SAT and "
    "HiGHS; or solve generalized-assignment files (matcher bench gap FILE...).",
    no_args_is_help=False,
    invoke_without_command=True,
)
app.add_typer(bench_app, name="bench")


@bench_app.callback(invoke_without_command=True)
def bench(
    ctx: typer.Context,
    profile: Annotated[
        str, typer.Option(help="quick (CI, a few minutes) or full (the published tables).")
    ] = "quick",
    only: Annotated[
        list[str] | None,
        typer.Option(
            help="Run only the tasks whose 'suite: name' contains this (repeatable), e.g. "
            "--only county --only gap12."
        ),
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Write the records (JSON) here, and a .md table beside.")
    ] = None,
    compare: Annotated[
        Path | None,
        typer.Option(help="A baseline (JSON) to compare against: exit 1 if quality is worse."),
    ] = None,
    gap_dir: Annotated[
        Path | None, typer.Option(help="Folder of the public GAP instances and best_known.csv.")
    ] = None,
    shard: Annotated[
        str,
        typer.Option(
            help="Run the K-th of every N tasks (K/N), e.g. 1/3, 2/3 and 3/3 on three "
            "machines or one after another; 'matcher bench merge' joins them."
        ),
    ] = "1/1",
    resume: Annotated[
        bool,
        typer.Option(
            help="Keep the records already in --out (a run of the same profile, shard and "
            "commit that was stopped) and run only the tasks it lacks. The file is "
            "rewritten after every task."
        ),
    ] = False,
    workers: Workers = 2,
) -> None:
    """Run a profile's tasks (each in a fresh process) and print their tables."""
    if ctx.invoked_subcommand is not None:
        return
    from matcher.bench.compare import compare as compare_runs
    from matcher.bench.report import markdown
    from matcher.bench.run import run_profile
    from matcher.bench.suites import GAP_DIR, select, tasks
    from matcher.errors import InputError
    from matcher.errors import Problem as Issue
    from matcher.formats.files import read_document, writable_file, write_text_atomic

    if out is not None:
        writable_file(out)
        writable_file(out.with_suffix(".md"))
    if profile not in ("quick", "full"):
        raise InputError([Issue("--profile", f"{profile!r} is not a profile: quick or full")])
    part = _shard(shard)
    earlier = _resumed(out, profile, shard, only or []) if resume else None
    if only and not select(tasks(profile, gap_dir or GAP_DIR), only):
        raise InputError([Issue("--only", f"no task of the {profile} profile matches {only}")])
    baseline = read_document(compare) if compare is not None else None
    if compare is not None and not (isinstance(baseline, dict) and "records" in baseline):
        raise InputError([Issue(str(compare), "not a bench record: no 'records' list")])

    def progress(task: object, record: dict[str, object], done: int, total: int) -> None:
        figure = record.get("error") or _headline(record)
        console.print(f"[{done}/{total}] {record['suite']}: {record['name']}: {figure}")

    def save(run: dict[str, object]) -> None:
        if out is not None:
            write_text_atomic(out, json.dumps(run, indent=1) + "\n")

    run = run_profile(
        profile,
        gap_dir or GAP_DIR,
        workers,
        progress,
        only=only or [],
        shard=part,
        earlier=earlier,
        save=save,
    )
    text = markdown(run)
    if out is not None:
        write_text_atomic(out, json.dumps(run, indent=1) + "\n")
        write_text_atomic(out.with_suffix(".md"), text)
    sys.stdout.write(text + "\n")
    sys.stdout.flush()
    if baseline is not None:
        deltas = compare_runs(baseline, run)
        worse = [d for d in deltas if d.worse]
        console.print(
            f"Compared with {compare} (commit {baseline.get('commit', '?')}): "
            f"{len(deltas)} figures, {len(worse)} worse."
        )
        for d in deltas:
            if d.worse or d.current != d.baseline:
                mark = "WORSE" if d.worse else "     "
                console.print(
                    f"  {mark} {d.task}: {d.figure} {d.baseline} -> {d.current}{_change(d)}",
                    markup=False,
                    highlight=False,
                )
        if worse:
            raise typer.Exit(1)


def _shard(text: str) -> tuple[int, int]:
    """``K/N`` as (K, N), 1 <= K <= N."""
    from matcher.errors import InputError
    from matcher.errors import Problem as Issue

    k, _, n = text.partition("/")
    if not (k.isdigit() and n.isdigit() and 1 <= int(k) <= int(n)):
        raise InputError([Issue("--shard", f"{text!r} is not K/N with 1 <= K <= N, e.g. 2/3")])
    return int(k), int(n)


def _resumed(
    out: Path | None, profile: str, shard: str, only: list[str]
) -> dict[str, object] | None:
    """The stopped run in ``out`` to go on from (None if there is none yet); an error if it
    is another profile's, shard's or commit's, since one table must come from one run."""
    from matcher.errors import InputError
    from matcher.errors import Problem as Issue
    from matcher.formats.files import read_document
    from matcher.provenance import commit

    if out is None:
        raise InputError([Issue("--resume", "needs --out: the file the run is saved in")])
    if not out.exists():
        return None
    earlier = read_document(out)
    if not (isinstance(earlier, dict) and isinstance(earlier.get("records"), list)):
        raise InputError([Issue(str(out), "not a bench record: no 'records' list")])
    wanted = {"profile": profile, "shard": shard, "only": only, "commit": commit()}
    for key, value in wanted.items():
        if earlier.get(key) != value:
            raise InputError(
                [
                    Issue(
                        str(out),
                        f"its run has {key} {earlier.get(key)!r}, this one {value!r}: "
                        "resume only the same run (or write to another file)",
                    )
                ]
            )
    return earlier


@bench_app.command("merge")
def bench_merge(
    shards: Annotated[list[Path], typer.Argument(help="The shards' files (--out of each).")],
    out: Annotated[Path, typer.Option(help="Write the joined run (JSON) here, and .md beside.")],
    gap_dir: Annotated[
        Path | None, typer.Option(help="Folder of the public GAP instances and best_known.csv.")
    ] = None,
) -> None:
    """Join the shards of one run (same profile and commit, each complete) into one."""
    from matcher.bench.report import markdown
    from matcher.bench.run import merge
    from matcher.bench.suites import GAP_DIR, tasks
    from matcher.errors import InputError
    from matcher.errors import Problem as Issue
    from matcher.formats.files import read_document, writable_file, write_text_atomic

    writable_file(out)
    writable_file(out.with_suffix(".md"))
    runs = []
    for path in shards:
        run = read_document(path)
        if not (isinstance(run, dict) and isinstance(run.get("records"), list)):
            raise InputError([Issue(str(path), "not a bench record: no 'records' list")])
        runs.append(run)
    try:
        joined = merge(tasks(str(runs[0].get("profile")), gap_dir or GAP_DIR), runs)
    except ValueError as error:
        raise InputError([Issue("shards", str(error))]) from error
    write_text_atomic(out, json.dumps(joined, indent=1) + "\n")
    write_text_atomic(out.with_suffix(".md"), markdown(joined))
    console.print(f"Joined {len(runs)} shards, {len(joined['records'])} records: {out}")


@bench_app.command("gap")
def bench_gap(
    files: Annotated[list[Path], typer.Argument(help="OR-Library generalized-assignment files.")],
    effort: Effort = "standard",
    budget: Budget = None,
    time_limit: TimeLimit = None,
    workers: Workers = 2,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON lines.")] = False,
) -> None:
    """Solve generalized-assignment files with the engine: cost, bound, proof and time."""
    from matcher.bench.gapfiles import read_gap, solve_gap

    params = _params(effort, budget, time_limit, workers)
    for path in files:
        gap = read_gap(path)
        run = solve_gap(gap, params)
        record = {
            "file": str(path),
            "jobs": gap.jobs,
            "agents": gap.agents,
            "feasible": run.feasible,
            "cost": run.cost,
            "bound": run.bound,
            "proven": run.proven,
            "stopped_by": run.stopped_by,
            "budget_used": run.budget_used,
            "seconds": round(run.build_s + run.solve_s, 3),
        }
        if as_json:
            sys.stdout.write(json.dumps(record) + "\n")
            continue
        cost = "no feasible assignment" if run.cost is None else f"cost {run.cost:,}"
        gap_text = ""
        if run.cost is not None and run.bound:
            gap_text = f" ({100 * (run.cost - run.bound) / max(1, run.cost):.2f} % above)"
        console.print(
            f"{path}: {gap.jobs} jobs × {gap.agents} agents: {cost}, bound {run.bound:,}"
            f"{gap_text}, {'proven optimal' if run.proven else 'not proven'}; "
            f"{record['seconds']} s, {run.budget_used} of {params.deterministic_budget} "
            f"deterministic s ({run.stopped_by}).",
            highlight=False,
        )


def _change(delta: Delta) -> str:
    """A figure's relative change, where both sides are numbers (not yes/no)."""
    before, after = delta.baseline, delta.current
    numbers = all(isinstance(x, int | float) and not isinstance(x, bool) for x in (before, after))
    return f" ({100 * (after - before) / abs(before):+.1f} %)" if numbers and before else ""


def _headline(record: dict[str, object]) -> str:
    """One line per finished task for the progress display."""
    if record.get("kind") == "gap":
        return f"cost {record['cost']} (best known {record['best_known']}), {record['total_s']} s"
    if record.get("kind") == "rank":
        return f"p50 {record['p50_ms']} ms, p95 {record['p95_ms']} ms"
    if record.get("kind") == "overnight":
        return f"{record['nights_given']} of {record['nights_asked']} nights, {record['total_s']} s"
    return f"{record.get('status')}, {record.get('placed')} placed, {record.get('total_s')} s"


@app.command()
def demo(
    scenario: Annotated[
        Path | None,
        typer.Option(
            help="Instance to load (default: scenarios/lancashire-county.json, or the same "
            "county generated if that file is not here)."
        ),
    ] = None,
    database: Annotated[
        str | None,
        typer.Option(help="Database URL for the demo register (default: .matcher/demo.sqlite)."),
    ] = None,
    examples: Annotated[int, typer.Option(min=1, max=20, help="Referrals to show.")] = 4,
) -> None:
    """Load the county scenario into the register and show ranked matches for a few referrals."""
    from matcher.demo import run_demo

    run_demo(console, scenario, database, examples)


scenario_app = typer.Typer(
    help="What-if scenarios for commissioners: variants solved side by side, and a report.",
    no_args_is_help=True,
)
app.add_typer(scenario_app, name="scenario")


@scenario_app.command("run")
def scenario_run(
    file: Annotated[Path, typer.Argument(help="Scenario file (.yaml, .yml or .json).")],
    out: Annotated[
        Path | None, typer.Option(help="Results folder (default: results/<file name>).")
    ] = None,
    jobs: Annotated[
        int | None,
        typer.Option(min=1, max=64, help="Variants solved at once (default: one per core)."),
    ] = None,
    executor: ExecutorOption = "local",
) -> None:
    """Solve every variant of a scenario file in parallel worker processes (or on a Dask
    cluster) and write the results and their report (report.html, summary.md, CSV files)
    into a folder."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from matcher.executor import checked
    from matcher.formats.files import writable_folder
    from matcher.scenario.report import status_text, write_report
    from matcher.scenario.runner import default_jobs, prepare, run_variants, write_results

    checked(executor, "--executor")
    scenario, base_path, variants = prepare(file)
    jobs = jobs or default_jobs(scenario)
    folder = writable_folder(out or Path("results") / file.stem)  # before the solves
    where = "" if executor == "local" else f" on {executor}"
    console.print(
        f"{scenario.name}: {len(variants)} variants{where}, {jobs} at a time, each searched with "
        f"{scenario.solver.effort.value} effort on {scenario.solver.workers} workers"
    )
    with Progress(
        "{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
    ) as bar:
        names = ", ".join(v.name for v, _, _ in variants[:jobs])
        task = bar.add_task(f"Allocating {names}", total=len(variants))

        def advance(name: str, done: int, total: int) -> None:
            bar.update(task, completed=done, description=f"{name} done; {total - done} to go")

        summaries = run_variants(scenario, variants, jobs=jobs, progress=advance, executor=executor)
    write_results(folder, scenario, file, base_path, summaries, jobs, executor)
    for summary in summaries:
        t = summary.totals
        gap = summary.capacity_gap
        extra = f"; capacity to buy £{gap.cost:,.0f} a year" if gap and gap.cost else ""
        nights = f", {t.nights_given}/{t.nights_requested} nights" if t.nights_requested else ""
        proven = status_text(summary).splitlines()[0]
        broken = (
            f", {len(summary.violations)} rules broken (see the report)"
            if summary.violations
            else ", every rule kept (checked)"
        )
        console.print(
            f"  {summary.name}: {t.placed}/{t.referred} children placed{nights}, "
            f"£{t.cost:,.0f} a year, {proven}{broken}{extra}"
        )

    written = write_report(folder)
    console.print(f"results in {folder}; the report is {written[0]}")


@scenario_app.command("report")
def scenario_report(
    folder: Annotated[Path, typer.Argument(help="Results folder of matcher scenario run.")],
) -> None:
    """Write report.html (self-contained), summary.md and CSV files into a results folder
    again (matcher scenario run writes them already)."""
    from matcher.scenario.report import write_report

    for path in write_report(folder):
        console.print(f"wrote {path}")


@app.command()
def load(
    instance: Annotated[
        Path | None, typer.Argument(help="Instance file (JSON/YAML); or give the CSV files.")
    ] = None,
    providers: Annotated[Path | None, typer.Option(help="Provider register CSV.")] = None,
    referrals: Annotated[Path | None, typer.Option(help="Referral list CSV.")] = None,
    units: Annotated[Path | None, typer.Option(help="Overnight units CSV.")] = None,
    settings: Annotated[
        Path | None,
        typer.Option(
            help="Settings (JSON/YAML): only the fields that differ from the instance's, or "
            "for CSV files from Lancashire's (e.g. planning_date, night_rate)."
        ),
    ] = None,
    database: Annotated[
        str | None,
        typer.Option(help="Register URL (default: $DATABASE_URL, else .matcher/register.sqlite)."),
    ] = None,
    replace: Annotated[
        bool, typer.Option(help="Replace what the register holds (its bookings go too).")
    ] = False,
) -> None:
    """Put a council's own county into the register that matcher serve serves."""
    from matcher.register.load import load_county

    loaded, url = load_county(
        instance=instance,
        providers=providers,
        referrals=referrals,
        units=units,
        settings=settings,
        database=database,
        replace=replace,
    )
    console.print(
        f"loaded {len(loaded.providers)} providers and {len(loaded.referrals)} referrals "
        f"into {url} (planning date {loaded.settings.planning_date})"
    )


@app.command()
def backup(
    out: Annotated[Path, typer.Argument(help="The backup file to write.")],
    database: Annotated[
        str | None,
        typer.Option(help="Register URL (default: $DATABASE_URL, else .matcher/register.sqlite)."),
    ] = None,
) -> None:
    """Back up an SQLite register while the service runs (a consistent, checked copy)."""
    from matcher.register.backup import backup as back_up
    from matcher.register.database import database_url

    counts = back_up(database or database_url(), out)
    console.print(f"backed up to {out}: " + ", ".join(f"{n} {t}" for t, n in counts.items()))


@app.command()
def restore(
    backup_file: Annotated[Path, typer.Argument(help="A backup made by matcher backup.")],
    database: Annotated[
        str | None,
        typer.Option(help="Register URL (default: $DATABASE_URL, else .matcher/register.sqlite)."),
    ] = None,
) -> None:
    """Put a backup in the register's place (stop the service first)."""
    from matcher.register.backup import restore as put_back
    from matcher.register.database import database_url

    url = database or database_url()
    counts = put_back(url, backup_file)
    console.print(f"restored {backup_file}: " + ", ".join(f"{n} {t}" for t, n in counts.items()))


@app.command()
def erase(
    referral: Annotated[
        list[str] | None, typer.Option(help="A closed referral to erase (repeatable).")
    ] = None,
    closed_before: Annotated[
        str | None,
        typer.Option(help="Erase every referral closed before this day, YYYY-MM-DD (retention)."),
    ] = None,
    database: Annotated[
        str | None,
        typer.Option(help="Register URL (default: $DATABASE_URL, else .matcher/register.sqlite)."),
    ] = None,
) -> None:
    """Erase closed referrals (an erasure request, or the retention period run out): the
    record goes; history, placements and the audit keep their rows under a one-way token,
    and past returns do not change (docs/deploy.md)."""
    from datetime import date as day

    from matcher.errors import InputError
    from matcher.register.access import Principal, Role
    from matcher.register.database import Database
    from matcher.register.erasure import closed_before as closed
    from matcher.register.erasure import erase as erase_one

    if not referral and not closed_before:
        raise InputError("give --referral ID or --closed-before YYYY-MM-DD")
    before = None
    if closed_before:
        try:
            before = day.fromisoformat(closed_before)
        except ValueError:
            raise InputError(f"--closed-before: {closed_before!r} is not YYYY-MM-DD") from None
    who = Principal("matcher-erase", Role.ADMIN)
    db = Database(database)
    try:
        with db.write() as session:
            chosen = list(referral or [])
            if before is not None:
                chosen += [r for r in closed(session, before) if r not in chosen]
            for referral_id in chosen:
                erase_one(session, referral_id, who)
    finally:
        db.dispose()
    console.print(f"erased {len(chosen)} referral{'s' if len(chosen) != 1 else ''}")


@app.command()
def returns(
    month: Annotated[str | None, typer.Option(help="A month, YYYY-MM.")] = None,
    quarter: Annotated[str | None, typer.Option(help="A quarter, YYYY-Qn.")] = None,
    start: Annotated[str | None, typer.Option("--from", help="First day, YYYY-MM-DD.")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Last day, YYYY-MM-DD.")] = None,
    database: Annotated[
        str | None,
        typer.Option(help="Register URL (default: $DATABASE_URL, else .matcher/register.sqlite)."),
    ] = None,
    csv_file: Annotated[
        Path | None, typer.Option("--csv", help="Write the headline figures to this CSV file.")
    ] = None,
    xlsx_file: Annotated[
        Path | None, typer.Option("--xlsx", help="Write every table to this workbook.")
    ] = None,
) -> None:
    """The period's performance returns from the register: referrals received and placed,
    days to placement, hours and nights booked against commissioned, occupancy, framework
    and spot spend, and the children waiting with their reasons (figures, no child)."""
    from datetime import date

    from rich.table import Table as RichTable

    from matcher.errors import InputError, Problem
    from matcher.formats.spreadsheets import spreadsheet_path, write_tables
    from matcher.register.database import Database, database_url
    from matcher.register.returns import compute, period
    from matcher.register.store import load_instance

    def day(text: str | None, name: str) -> date | None:
        try:
            return date.fromisoformat(text) if text else None
        except ValueError:
            raise InputError(Problem(name, "write a date as YYYY-MM-DD")) from None

    span = period(day(start, "from"), day(end, "to"), month, quarter)
    if csv_file is not None:
        spreadsheet_path(csv_file, ".csv")
    if xlsx_file is not None:
        spreadsheet_path(xlsx_file, ".xlsx")
    register = Database(database or database_url())
    try:
        with register.read() as session:
            instance = load_instance(session)
            if instance is None:
                raise InputError("the register is empty: load a county first (matcher load)")
            figures = compute(session, instance, span)
    finally:
        register.dispose()
    console.print(Text(f"{figures.council}: returns for {span.words()}", style="bold"))
    for table in figures.tables:
        shown = RichTable(title=table.name, title_justify="left")
        for name in table.header:
            shown.add_column(name)
        for row in table.rows:
            shown.add_row(*("" if v is None else str(v) for v in row))
        console.print(shown)
    if csv_file is not None:
        write_tables(csv_file, figures.tables)
    if xlsx_file is not None:
        write_tables(xlsx_file, figures.tables)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
    database: Annotated[
        str | None,
        typer.Option(help="Register URL (default: $DATABASE_URL, else .matcher/register.sqlite)."),
    ] = None,
    production: Annotated[
        bool,
        typer.Option(
            envvar="MATCHER_PRODUCTION",
            help="Refuse to start without a session secret, the trusted proxy's address "
            "and a way to sign in; never load the demo county or write demo tokens; log "
            "JSON lines (docs/deploy.md).",
        ),
    ] = False,
) -> None:
    """Serve the HTTP API and pages over the register; an empty register gets the demo
    county (not in production)."""
    from matcher.serve import serve as run_service

    run_service(host, port, database, console, production)


def main() -> None:
    """Entry point: run the app, turning user mistakes into a clear message and status 2."""
    try:
        app()
    except MatcherError as exc:
        err.print(Text.assemble(("error: ", "bold red"), exc.render()), highlight=False)
        raise SystemExit(2) from None
    except OSError as exc:  # a path the user gave: missing, a folder, not writable, ...
        where = f"{exc.filename}: " if exc.filename else ""
        err.print(Text.assemble(("error: ", "bold red"), f"{where}{exc.strerror or exc}"))
        raise SystemExit(2) from None
