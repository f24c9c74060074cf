"""The command line, run as a user runs it: exit codes, output, and clear errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from matcher.formats.files import save_instance
from tests import factories as f


def run(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"COLUMNS": "200", "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, "-m", "matcher", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=120,
    )


def small_instance(tmp_path: Path) -> Path:
    inst = f.instance(
        providers=[
            f.provider(),
            f.provider(id="P-2", name="Fylde Bright", contract="off_list", spot_hourly_rate=31),
            f.provider(id="P-3", name="Wyre Stars", districts=["wyre"]),
        ],
        referrals=[f.referral(), f.referral(id="R-0002", home_district="blackpool")],
    )
    path = tmp_path / "instance.json"
    save_instance(inst, path)
    return path


def test_rank_json_has_the_documented_shape(tmp_path: Path) -> None:
    result = run("rank", small_instance(tmp_path), "--referral", "R-0001", "--json")
    assert result.returncode == 0, result.stderr
    ranking = json.loads(result.stdout)
    assert ranking["referral_id"] == "R-0001"
    assert [c["provider_id"] for c in ranking["candidates"]] == ["P-1", "P-2"]
    assert {"provider_id", "rank", "score", "breakdown"} <= ranking["candidates"][0].keys()
    [excluded] = ranking["excluded"]
    assert excluded["provider_id"] == "P-3"
    assert excluded["reasons"][0]["code"] == "district_not_covered"
    assert excluded["reasons"][0]["message"]


def test_rank_table_shows_reasons_in_words(tmp_path: Path) -> None:
    result = run("rank", small_instance(tmp_path), "--referral", "R-0002")
    assert result.returncode == 0, result.stderr
    out = " ".join(result.stdout.split())  # as read, whatever the terminal's wrapping
    assert "Every provider is ruled out: The child lives in Blackpool, outside" in out
    assert out.count("outside Lancashire County Council's area") == 1  # said once
    assert "no provider may take this child now" in out
    assert "outside_council_area" not in out  # words, not codes


def test_unknown_referral_is_a_clear_error_not_a_traceback(tmp_path: Path) -> None:
    result = run("rank", small_instance(tmp_path), "--referral", "R-404")
    assert result.returncode == 2
    assert "error: no referral with id 'R-404'" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_instance_file_names_file_and_field(tmp_path: Path) -> None:
    path = small_instance(tmp_path)
    data = json.loads(path.read_text())
    data["providers"][0]["districts"] = ["preston", "narnia"]
    path.write_text(json.dumps(data))
    result = run("validate", path)
    assert result.returncode == 2
    assert f"{path}: providers[0] (P-1).districts: unknown council district 'narnia'" in (
        result.stderr.replace("\n", "")
    )
    assert "Traceback" not in result.stderr


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    result = run("validate", tmp_path / "nothing.yaml")
    assert result.returncode == 2
    assert "file not found" in result.stderr


def test_schema_is_json_schema() -> None:
    result = run("schema")
    assert result.returncode == 0
    schema = json.loads(result.stdout)
    assert set(schema["properties"]) == {"settings", "providers", "referrals"}
    assert "Referral" in schema["$defs"]


def test_reasons_markdown_matches_the_committed_docs() -> None:
    # docs/reasons.md is generated from the catalogue; they must not drift apart.
    result = run("reasons", "--markdown")
    docs = Path(__file__).parent.parent / "docs" / "reasons.md"
    assert result.stdout == docs.read_text()


def test_demo_loads_the_register_and_ranks(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'register.sqlite'}"
    result = run(
        "demo", "--scenario", small_instance(tmp_path), "--database", database, "--examples", "2"
    )
    assert result.returncode == 0, result.stderr
    assert "Loaded" in result.stdout and "2 referrals" in result.stdout
    assert "Ranked all 2 referrals" in result.stdout
    assert (tmp_path / "register.sqlite").exists()


def test_import_csv_end_to_end_and_bad_row_writes_nothing(tmp_path: Path) -> None:
    assert run("template", tmp_path).returncode == 0
    out = tmp_path / "instance.json"
    csvs = ["--providers", tmp_path / "providers.csv", "--referrals", tmp_path / "referrals.csv"]
    result = run("import-csv", *csvs, "--units", tmp_path / "units.csv", "--out", out)
    assert result.returncode == 0, result.stderr
    assert run("validate", out).returncode == 0

    # A malformed row: a clear error naming file, row and column, and no output file.
    referrals = tmp_path / "referrals.csv"
    lines = referrals.read_text(encoding="utf-8-sig").splitlines()
    lines[1] = lines[1].replace("preston", "narnia", 1)
    referrals.write_text("\n".join(lines) + "\n", encoding="utf-8")
    bad_out = tmp_path / "never.json"
    result = run("import-csv", *csvs, "--units", tmp_path / "units.csv", "--out", bad_out)
    assert result.returncode == 2
    stderr = " ".join(result.stderr.split())
    where = "referrals.csv, row 2, column 'home_district'"
    assert f"{where}: the value is not a known district" in stderr
    assert "narnia" not in stderr
    assert "Traceback" not in result.stderr
    assert not bad_out.exists()


def test_user_mistakes_on_paths_and_options_are_clear_errors(tmp_path: Path) -> None:
    existing = tmp_path / "existing.json"
    existing.write_text("{}")
    cases = [
        (("template", existing), "File exists"),
        (("schema", "--out", tmp_path), "is a folder"),
        (("generate", "--out", tmp_path / "g.json", "--providers", "2"), "--providers"),
        (("generate", "--out", tmp_path / "g.json", "--seed", "-1"), "--seed"),
        (("demo", "--database", "notaurl"), "cannot open the register at notaurl"),
    ]
    for args, expected in cases:
        result = run(*args)
        assert result.returncode == 2, args
        assert expected in result.stdout + result.stderr, args
        assert "Traceback" not in result.stderr, args


def test_demo_outside_the_repository_generates_the_county_into_its_own_register(
    tmp_path: Path,
) -> None:
    # Never $DATABASE_URL: the demo replaces its register, so it keeps one of its own.
    env_database = tmp_path / "real.sqlite"
    result = subprocess.run(
        [sys.executable, "-m", "matcher", "demo", "--examples", "1"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=os.environ | {"COLUMNS": "200", "DATABASE_URL": f"sqlite:///{env_database}"},
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "generated Lancashire-shaped county" in result.stdout
    assert (tmp_path / ".matcher" / "demo.sqlite").exists()
    assert not env_database.exists()


def test_settings_file_errors_name_the_file(tmp_path: Path) -> None:
    settings = f.settings().model_dump(mode="json")
    del settings["travel_minutes"]["preston"]["chorley"]
    path = tmp_path / "settings.json"
    path.write_text(json.dumps(settings))
    assert run("template", tmp_path / "csv").returncode == 0
    csvs = tmp_path / "csv"
    result = run(
        "import-csv",
        "--providers", csvs / "providers.csv",
        "--referrals", csvs / "referrals.csv",
        "--settings", path,
        "--out", tmp_path / "out.json",
    )  # fmt: skip
    assert result.returncode == 2
    assert f"{path}: settings.travel_minutes.preston.chorley: missing travel time" in (
        " ".join(result.stderr.split())
    )
    assert not (tmp_path / "out.json").exists()


def test_scenario_run_and_report_from_the_command_line(tmp_path: Path) -> None:
    small_instance(tmp_path)
    scenario = tmp_path / "what-if.yaml"
    scenario.write_text(
        "name: Small what-if\n"
        "base: instance.json\n"
        "budget: 5000\n"
        "solver: {budget: 2, workers: 1}\n"
        "gap: {budget: 2}\n"
        "variants:\n"
        "  - name: As now\n"
        "  - name: P-1 suspended\n"
        "    changes:\n"
        "      - {change: rating, provider: P-1, regulator: cqc, overall: inadequate}\n"
    )
    out = tmp_path / "results"
    done = run("scenario", "run", scenario, "--out", out, "--jobs", "2")
    assert done.returncode == 0, done.stderr
    assert "As now: 1/2 children placed" in done.stdout
    assert "every rule kept (checked)" in " ".join(done.stdout.split())
    # The run writes the report; `scenario report` writes it again.
    html = (out / "report.html").read_text()
    (out / "report.html").unlink()
    report = run("scenario", "report", out)
    assert report.returncode == 0, report.stderr
    assert (out / "report.html").read_text() == html
    assert "Small what-if" in html and "P-1 suspended" in html
    # The child in Blackpool is a pseudonym only; the report never needs more.
    assert "R-0002" in (out / "children.csv").read_text()


def test_scenario_mistakes_are_clear_errors(tmp_path: Path) -> None:
    small_instance(tmp_path)
    scenario = tmp_path / "bad.yaml"
    scenario.write_text(
        "name: Bad\nbase: instance.json\nvariants:\n"
        "  - name: Gone\n    changes:\n      - {change: remove_provider, provider: P-404}\n"
    )
    done = run("scenario", "run", scenario, "--out", tmp_path / "out")
    assert done.returncode == 2
    assert "variants[0] (Gone).changes[0] (remove_provider)" in done.stderr
    assert "P-404" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "out").exists()
    missing = run("scenario", "report", tmp_path / "nowhere")
    assert missing.returncode == 2 and "run.json" in missing.stderr


def test_allocate_flags_an_existing_placement_with_a_suspended_provider(tmp_path: Path) -> None:
    # Table and JSON both tell the panel which kept placement to reassess, and why.
    suspended = f.provider(
        ratings=[{"regulator": "cqc", "overall": "inadequate", "date": "2026-05-01"}]
    )
    inst = f.instance(providers=[suspended], referrals=[f.referral(current_provider_id="P-1")])
    path = tmp_path / "instance.json"
    save_instance(inst, path)
    table = run("allocate", path, "--budget", "2")
    assert table.returncode == 0, table.stderr
    assert "For the panel to reassess (1)" in table.stdout
    assert "R-0001" in table.stdout and "suspended" in table.stdout
    as_json = run("allocate", path, "--budget", "2", "--json")
    [flag] = json.loads(as_json.stdout)["reassess"]
    assert flag["referral_id"] == "R-0001" and flag["code"] == "suspended_existing_placement"


def test_allocate_says_how_many_nights_a_short_child_was_given(tmp_path: Path) -> None:
    unit = f.overnight_provider().units[0].model_dump(mode="json") | {"beds": 1, "solo_rooms": 0}
    inst = f.instance(
        providers=[f.overnight_provider(units=[unit])],
        referrals=[
            f.overnight_referral(nights_per_month=20),
            f.overnight_referral(id="R-0002", nights_per_month=20),
        ],
    )
    path = tmp_path / "instance.json"
    save_instance(inst, path)
    table = run("allocate", path, "--budget", "2")
    assert table.returncode == 0, table.stderr
    result = json.loads(run("allocate", path, "--budget", "2", "--json").stdout)
    short = {c["referral_id"]: c for c in result["overnight"]["children"]}
    for row in result["overnight"]["short"]:
        child = short[row["referral_id"]]
        assert f"{child['allocated']} of {child['requested']}" in table.stdout
    assert result["overnight"]["short"]


def test_load_puts_a_councils_own_county_in_the_register(tmp_path: Path) -> None:
    # From CSV files with a settings file that gives only what differs from the defaults.
    from matcher.register.store import Register

    assert run("template", tmp_path / "csv").returncode == 0
    (tmp_path / "settings.yaml").write_text("planning_date: 2027-01-04\nnight_rate: 480\n")
    url = f"sqlite:///{tmp_path / 'register.sqlite'}"
    args = [
        "load",
        "--providers",
        tmp_path / "csv" / "providers.csv",
        "--referrals",
        tmp_path / "csv" / "referrals.csv",
        "--units",
        tmp_path / "csv" / "units.csv",
        "--settings",
        tmp_path / "settings.yaml",
        "--database",
        url,
    ]
    first = run(*args)
    assert first.returncode == 0, first.stderr
    assert "planning date 2027-01-04" in first.stdout
    register = Register(url)
    loaded = register.load()
    assert loaded.settings.night_rate == 480
    assert loaded.settings.council == "Lancashire County Council"  # the rest: the defaults
    assert [p.id for p in loaded.providers][:1] == ["P-0001"]
    register.database.dispose()
    # A register that holds a county is replaced only when asked.
    again = run(*args)
    assert again.returncode == 2 and "--replace" in again.stderr
    instance = small_instance(tmp_path)
    replaced = run("load", instance, "--database", url, "--replace")
    assert replaced.returncode == 0, replaced.stderr
    register = Register(url)
    assert [p.id for p in register.load().providers] == ["P-1", "P-2", "P-3"]
    register.database.dispose()
    # A settings file with a mistake names the file and the field; nothing is loaded.
    (tmp_path / "bad.yaml").write_text("night_rate: lots\n")
    bad = run("load", instance, "--database", url, "--replace", "--settings", tmp_path / "bad.yaml")
    assert bad.returncode == 2 and "bad.yaml" in bad.stderr and "night_rate" in bad.stderr
    both = run("load", instance, "--providers", tmp_path / "csv" / "providers.csv")
    assert both.returncode == 2 and "not both" in both.stderr


def test_a_wrong_out_is_refused_before_any_solve(tmp_path: Path) -> None:
    # A file where a folder is wanted (or the other way round) is said at once, not after
    # minutes of solving.
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    scenario = (
        Path(__file__).resolve().parents[1] / "scenarios" / "northamptonshire-6-or-7-days.yaml"
    )
    run_it = run("scenario", "run", scenario, "--out", a_file)
    assert run_it.returncode == 2 and "exists and is not a folder" in run_it.stderr
    assert "solved" not in run_it.stdout
    allocate = run("allocate", small_instance(tmp_path), "--out", a_file / "result.json")
    assert allocate.returncode == 2 and "is a file, not a folder" in allocate.stderr
    assert "Placed" not in allocate.stdout and "placed" not in allocate.stdout


def test_allocate_says_who_goes_where_in_words(tmp_path: Path) -> None:
    path = small_instance(tmp_path)
    table = run("allocate", path, "--budget", "2")
    assert table.returncode == 0, table.stderr
    out = " ".join(table.stdout.split())
    result = json.loads(run("allocate", path, "--budget", "2", "--json").stdout)
    assert "Who goes where" in out
    for placement in result["placements"]:
        assert placement["referral_id"] in out
    for left in result["unplaced"]:
        assert left["referral_id"] in out and left["reasons"][0]["message"][:40] in out
    assert "Proven the best possible" in out or "Not proven the best" in out
    # No solver words: no level's code name, no "optimal", no "feasible", no pence.
    for word in ("crisis_placed", "priority_placed", "optimal", "feasible", "deterministic"):
        assert word not in out, word
