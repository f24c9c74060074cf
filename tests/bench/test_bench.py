"""``matcher bench``: tasks produce honest records, the report shows them, the gate bites."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest

from matcher.bench.compare import compare
from matcher.bench.report import markdown
from matcher.bench.run import _baseline, _in_fresh_process, merge, run_profile, shard_of
from matcher.bench.suites import (
    GAP_DIR,
    SCALING,
    Task,
    merge_baselines,
    run_baseline,
    run_task,
    select,
    tasks,
)
from tests.test_cli import run as run_matcher


def allocation_record(**changes: Any) -> dict[str, Any]:
    record = {
        "suite": "generated",
        "name": "county",
        "kind": "allocation",
        "referrals": 2000,
        "providers": 200,
        "status": "feasible",
        "stopped_by": "budget",
        "placed": 1250,
        "unplaced": 750,
        "levels": {
            "crisis_placed": {"value": 106, "bound": 106, "optimal": True, "greedy": 102},
            "priority_placed": {"value": 1980, "bound": 1997, "optimal": False, "greedy": 1855},
            "cost": {"value": 13_500_000, "bound": 750_000, "optimal": False, "greedy": 12_000_000},
        },
        "gap": 0.0085,
        "engine_over_greedy": 1.0674,
        "budget": 10.0,
        "budget_used": 7.5,
        "build_share": 0.03,
        "total_s": 9.1,
        "relative_s": 7.0,
        "peak_memory_mb": 180.0,
        "violations": 0,
    }
    return record | changes


def gap_record(**changes: Any) -> dict[str, Any]:
    record = {
        "suite": "gap",
        "name": "cattrysse1994/gap1-0",
        "kind": "gap",
        "jobs": 15,
        "agents": 5,
        "best_known": 261,
        "feasible": True,
        "cost": 261,
        "bound": 261,
        "proven": True,
        "gap_to_best_pct": 0.0,
        "budget": 5.0,
        "budget_used": 0.01,
        "stopped_by": "proof",
        "total_s": 0.05,
        "violations": 0,
    }
    return record | changes


def bench_run(*records: dict[str, Any]) -> dict[str, Any]:
    return {
        "profile": "quick",
        "commit": "abc1234",
        "date": "2026-11-22 09:00 UTC",
        "machine": {"cores": 2, "python": "3.11", "ortools": "9.15", "highspy": "1.15"},
        "workers": 2,
        "wall_s": 60.0,
        "records": list(records),
    }


def worse(baseline: dict[str, Any], current: dict[str, Any]) -> set[str]:
    return {d.figure for d in compare(baseline, current) if d.worse}


# --------------------------------------------------------------------------------------
# The gate
# --------------------------------------------------------------------------------------


def test_the_same_figures_pass_the_gate() -> None:
    run = bench_run(allocation_record(), gap_record())
    assert worse(run, copy.deepcopy(run)) == set()


def test_an_unproven_level_may_not_fall_at_all_the_solve_is_deterministic() -> None:
    baseline = bench_run(allocation_record())
    slightly = allocation_record()
    slightly["levels"]["priority_placed"]["value"] = 1979  # one child-weight lower
    assert worse(baseline, bench_run(slightly)) == {"priority_placed"}
    better = allocation_record()
    better["levels"]["priority_placed"]["value"] = 1981
    assert worse(baseline, bench_run(better)) == set()


def test_levels_compare_lexicographically() -> None:
    baseline = bench_run(allocation_record())
    # More placed by priority at a higher cost is better: the first level that differs
    # decides.
    trade = allocation_record()
    trade["levels"]["priority_placed"]["value"] = 1981
    trade["levels"]["cost"]["value"] = 14_000_000
    assert worse(baseline, bench_run(trade)) == set()
    # Cheaper, but one fewer by priority, is worse.
    cheaper = allocation_record()
    cheaper["levels"]["priority_placed"]["value"] = 1979
    cheaper["levels"]["cost"]["value"] = 12_000_000
    assert worse(baseline, bench_run(cheaper)) == {"priority_placed"}


def test_a_lost_proof_or_a_lower_proven_value_fails() -> None:
    baseline = bench_run(allocation_record())
    unproven = allocation_record()
    unproven["levels"]["crisis_placed"]["optimal"] = False
    assert worse(baseline, bench_run(unproven)) == {"crisis_placed"}
    lower = allocation_record()
    lower["levels"]["crisis_placed"]["value"] = 105
    assert worse(baseline, bench_run(lower)) == {"crisis_placed"}


def test_a_wider_gap_violations_and_slowness_fail() -> None:
    baseline = bench_run(allocation_record())
    current = allocation_record(gap=0.03, violations=1, relative_s=40.0)
    assert worse(baseline, bench_run(current)) == {"gap", "violations", "time / calibration"}
    # Twice as slow, against the run's own calibration, is reported, not failed: time is
    # gated only as a generous ratio, measured in one run.
    assert worse(baseline, bench_run(allocation_record(relative_s=14.0))) == set()
    # Seconds alone are never compared: a busy machine is not a slower engine.
    assert worse(baseline, bench_run(allocation_record(total_s=40.0))) == set()


def test_a_task_that_differs_under_load_fails() -> None:
    baseline = bench_run(allocation_record())
    same = allocation_record(repeat_identical=True)
    assert worse(baseline, bench_run(same)) == set()
    differs = allocation_record(repeat_identical=False)
    assert worse(baseline, bench_run(differs)) == {"identical under load"}


def test_ranking_is_gated_on_its_median_against_the_calibration_not_its_tail() -> None:
    def rank(p50: float, p95: float) -> dict[str, Any]:
        return {"suite": "rank", "name": "county", "kind": "rank", "p50_ms": p50, "p95_ms": p95}

    def run(calibration: float, record: dict[str, Any]) -> dict[str, Any]:
        return bench_run(record) | {"calibration_s": calibration}

    baseline = run(1.6, rank(0.4, 0.65))
    # Beside two busy processes: the machine 1.8 times slower, the tail seven times longer.
    assert worse(baseline, run(2.9, rank(0.66, 4.5))) == set()
    # The ranking itself four times slower on the same machine: worse.
    assert worse(baseline, run(1.6, rank(1.6, 2.6))) == {"p50 ms / calibration s"}


def test_a_task_left_out_with_only_is_not_missing() -> None:
    baseline = bench_run(allocation_record(), gap_record())
    chosen = bench_run(allocation_record()) | {"only": ["county"]}
    assert worse(baseline, chosen) == set()


def test_a_missing_or_failed_task_fails() -> None:
    baseline = bench_run(allocation_record(), gap_record())
    assert worse(baseline, bench_run(allocation_record())) == {"result"}
    failed = {"suite": "gap", "name": "cattrysse1994/gap1-0", "error": "no result in 200 s"}
    assert worse(baseline, bench_run(allocation_record(), failed)) == {"result"}


def test_a_gap_instance_proven_at_its_optimum_must_stay_there() -> None:
    baseline = bench_run(gap_record())
    assert worse(baseline, bench_run(gap_record(cost=262, proven=False))) == {"cost", "proven"}
    assert worse(baseline, bench_run(gap_record(cost=None, feasible=False))) == {
        "cost",
        "feasible",
    }
    # Unproven in the baseline: no dearer, to the unit (the solve is deterministic).
    loose = bench_run(gap_record(cost=1000, proven=False))
    assert worse(loose, bench_run(gap_record(cost=1001, proven=False))) == {"cost"}
    assert worse(loose, bench_run(gap_record(cost=999, proven=False))) == set()


# --------------------------------------------------------------------------------------
# The report
# --------------------------------------------------------------------------------------


def test_the_markdown_shows_the_records_figures() -> None:
    rank = {
        "suite": "rank",
        "name": "county",
        "kind": "rank",
        "referrals": 2000,
        "providers": 200,
        "timed": 300,
        "p50_ms": 0.41,
        "p95_ms": 0.63,
    }
    text = markdown(bench_run(allocation_record(), gap_record(), rank))
    assert "Commit `abc1234`" in text
    county = next(line for line in text.splitlines() if line.startswith("| generated: county"))
    cells = [c.strip() for c in county.strip("|").split("|")]
    assert cells[2] == "10.0 (7.5)"  # budget (used)
    assert cells[3:9] == ["feasible", "1,250", "106 ✓", "1,980", "1997", "1855"]
    assert cells[9] == "0.85"  # gap, percent
    gap_line = next(line for line in text.splitlines() if line.startswith("| cattrysse1994/"))
    assert re.search(r"\| 261 \| 261 \| 0\.00 \| 261 \| yes \|", gap_line)
    assert "best known reached on 1, within 0.5 % on 1" in text
    assert "| 2,000 × 200 | 300 | 0.41 | 0.63 |" in text


# --------------------------------------------------------------------------------------
# Tasks, for real
# --------------------------------------------------------------------------------------


def test_a_scenario_task_records_a_checked_allocation() -> None:
    record = run_task(Task("scenario", "example-small.yaml", {"budget": 5}), GAP_DIR, 2)
    assert "error" not in record
    assert record["violations"] == 0
    assert record["status"] == "optimal"
    assert record["placed"] + record["unplaced"] > 0
    assert sum(record["placed_by_priority"].values()) == record["placed"]
    assert (
        record["levels"]["priority_placed"]["value"]
        >= record["levels"]["priority_placed"]["greedy"]
    )


def test_a_gap_task_in_a_fresh_process_reaches_the_optimum_of_gap1_0() -> None:
    task = Task("gap", "cattrysse1994/gap1-0", {"budget": 10, "highs": True})
    record = _in_fresh_process(run_task, task, GAP_DIR, 2)
    highs = Task(task.suite, task.name, task.options | {"kind": "highs"})
    # HiGHS given 10 s, in a process of its own.
    record = merge_baselines(record, {"highs": _in_fresh_process(_baseline, highs, GAP_DIR, 2, 10)})
    assert "error" not in record, record.get("error")
    assert record["cost"] == record["best_known"] == 261
    assert record["proven"] and record["violations"] == 0
    assert record["highs"]["cost"] == 261
    assert record["peak_memory_mb"] > 0


def test_a_missing_gap_folder_is_a_failed_record_not_a_crash(tmp_path: Path) -> None:
    nowhere = tmp_path / "nowhere"
    record = run_task(Task("gap", "cattrysse1994/gap1-0", {"budget": 1}), nowhere, 2)
    assert "GAP folder not found" in record["error"]
    assert [t.suite for t in tasks("full", nowhere)][-1] == "gap"  # the missing listing


def test_the_full_profile_reads_its_gap_instances_from_the_listing() -> None:
    names = [t.name for t in tasks("full", GAP_DIR) if t.suite == "gap"]
    assert len([n for n in names if n.startswith("cattrysse1994/")]) == 60
    assert "yagiura2004/c60900" in names
    public = [n for n in names if not n.startswith("generated/")]
    assert not any(n.endswith("1600") for n in public)  # above 900 jobs
    # The generated types D and E of 1,600 and 3,200 jobs, 20 to 80 agents.
    generated = sorted(n for n in names if n.startswith("generated/"))
    assert len(generated) == 12
    assert {"generated/d80-3200", "generated/e20-1600"} <= set(generated)


def test_the_full_profile_runs_peers_only_where_they_say_something() -> None:
    chosen = {t.name: t for t in tasks("full", GAP_DIR) if t.suite == "gap"}
    with_peers = {name for name, t in chosen.items() if t.options["plain"] and t.options["highs"]}
    assert not any(name.startswith("cattrysse1994/") for name in with_peers)
    assert {"chu1997/d20200", "chu1997/c05100", "yagiura2004/e60900"} <= with_peers
    assert not {"chu1997/a05100", "yagiura2004/d10400", "yagiura2004/c60900"} & with_peers
    assert all(name in with_peers for name in chosen if name.startswith("generated/"))


def test_the_full_profile_scales_from_500_referrals_to_the_region() -> None:
    scaling = [t for t in tasks("full", GAP_DIR) if t.suite == "scaling"]
    assert [t.options["referrals"] for t in scaling] == list(SCALING)
    assert SCALING[0] == 500 and SCALING[-1] == 15000
    assert all(t.options["plain"] and t.options["highs"] and t.options["lp"] for t in scaling)
    # Its budget grows with the problem (no fixed budget), and the region runs twice.
    assert all("budget" not in t.options and t.options["effort"] == "standard" for t in scaling)
    assert [t.options["twice"] for t in scaling] == [False] * (len(SCALING) - 1) + [True]


def test_shards_take_every_task_once() -> None:
    chosen = tasks("full", GAP_DIR)
    shards = [shard_of(chosen, (k, 3)) for k in (1, 2, 3)]
    assert sorted(t.label for part in shards for t in part) == sorted(t.label for t in chosen)
    assert max(map(len, shards)) - min(map(len, shards)) <= 1
    assert shard_of(chosen, (1, 1)) == chosen


def test_a_scaling_task_records_the_lp_bound_and_peers_at_equal_budget() -> None:
    task = Task("scaling", "200 referrals", {"referrals": 200, "providers": 20, "seed": 7})
    record = run_task(task, GAP_DIR, 2)
    assert "error" not in record and record["violations"] == 0
    crisis = record["levels"]["crisis_placed"]["value"]
    priority = record["levels"]["priority_placed"]
    lp = run_baseline(
        "lp", Task(task.suite, task.name, task.options | {"crisis": crisis}), GAP_DIR, 2, 5
    )
    plain_task = Task(task.suite, task.name, task.options | {"dtime": record["budget_used"] + 1})
    plain = run_baseline("plain", plain_task, GAP_DIR, 2, 5)
    # The relaxation bounds every integer solution with that crisis value, the engine's too.
    assert lp["status"] == "optimal"
    assert lp["priority_bound"] >= priority["value"]
    assert plain["crisis"] <= crisis or not record["levels"]["crisis_placed"]["optimal"]
    merged = merge_baselines(record, {"lp": lp, "plain": plain})
    assert merged["engine_over_lp"] == round(priority["value"] / lp["priority_bound"], 4)
    assert "As the problem grows" in markdown(bench_run(merged | {"suite": "scaling"}))


def test_a_stopped_run_resumes_where_it_saved_and_shards_merge(tmp_path: Path) -> None:
    only = ["weekly+50", "example-small"]
    saved: list[dict[str, Any]] = []
    first = run_profile("full", GAP_DIR, 2, only=only, shard=(1, 2), save=saved.append)
    assert first["complete"] and len(first["records"]) == 1
    assert len(saved) == 1 and saved[-1]["complete"]
    # A run stopped after its first task: resumed, it keeps that record and runs the rest.
    second_full = run_profile("full", GAP_DIR, 2, only=only, shard=(2, 2))
    stopped = copy.deepcopy(second_full) | {"complete": False}
    stopped["records"][0]["fingerprint"] = "kept from before"
    resumed = run_profile("full", GAP_DIR, 2, only=only, shard=(2, 2), earlier=stopped)
    assert resumed["records"][0]["fingerprint"] == "kept from before"
    joined = merge(tasks("full", GAP_DIR), [resumed, first])
    assert [r["name"] for r in joined["records"]] == ["weekly+50", "example-small.yaml"]
    assert joined["shard"] == "1/2 + 2/2"
    with pytest.raises(ValueError, match="not complete"):
        merge(tasks("full", GAP_DIR), [first, stopped])
    with pytest.raises(ValueError, match="commit"):
        merge(tasks("full", GAP_DIR), [first, resumed | {"commit": "0000000"}])


def test_resume_refuses_another_runs_file(tmp_path: Path) -> None:
    out = tmp_path / "run.json"
    out.write_text(json.dumps({"profile": "quick", "shard": "1/1", "only": [], "records": []}))
    done = run_matcher("bench", "--profile", "full", "--resume", "--out", str(out))
    assert done.returncode == 2
    assert "its run has profile 'quick'" in done.stderr
    done = run_matcher("bench", "--resume")
    assert done.returncode == 2 and "needs --out" in done.stderr
    done = run_matcher("bench", "--shard", "0/2")
    assert done.returncode == 2 and "is not K/N" in done.stderr


def test_only_chooses_tasks_by_their_label() -> None:
    chosen = select(tasks("quick", GAP_DIR), ["county", "GAP12"])
    assert [t.label for t in chosen] == [
        "generated: county",
        "scenario: lancashire-county.json",
        "gap: cattrysse1994/gap12-0",
        "rank: county",
    ]


# --------------------------------------------------------------------------------------
# The command line
# --------------------------------------------------------------------------------------


def test_bench_rejects_an_unknown_profile_and_a_baseline_that_is_not_one(tmp_path: Path) -> None:
    done = run_matcher("bench", "--profile", "fast")
    assert done.returncode == 2
    assert "'fast' is not a profile" in done.stderr
    not_a_record = tmp_path / "base.json"
    not_a_record.write_text(json.dumps({"runs": []}))
    done = run_matcher("bench", "--compare", str(not_a_record))
    assert done.returncode == 2
    assert "not a bench record" in done.stderr


@pytest.mark.parametrize("path", ["benchmarks/baseline-quick.json"])
def test_the_committed_baseline_is_a_quick_profile_record(path: str) -> None:
    baseline = json.loads((Path(__file__).resolve().parents[2] / path).read_text())
    assert baseline["profile"] == "quick"
    assert {(r["suite"], r["name"]) for r in baseline["records"]} == {
        (t.suite, t.name) for t in tasks("quick", GAP_DIR)
    }
    assert not [r for r in baseline["records"] if "error" in r]
