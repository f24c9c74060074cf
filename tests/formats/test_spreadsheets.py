"""Spreadsheets out: an allocation and a shortlist as CSV and .xlsx, from the command line
and the service, the same figures as the JSON, and no cell a spreadsheet would run."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import select

from matcher.allocate import allocate
from matcher.app import create_app
from matcher.formats.spreadsheets import allocation_tables, csv_text, shortlist_tables
from matcher.ranking import rank
from matcher.register.database import Database
from matcher.register.store import Register
from matcher.register.tables import AuditRow
from matcher.result import Params
from tests import factories as f
from tests.clients import auth, config, finished_job, small_instance
from tests.test_cli import run


def rows_of(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_an_allocation_sheet_has_every_child_once_with_the_results_figures() -> None:
    instance = small_instance()
    result = allocate(instance, Params(budget=2))
    children, totals = allocation_tables(instance, result)
    rows = rows_of(csv_text(children))
    assert sorted(r["referral"] for r in rows) == sorted(r.id for r in instance.referrals)
    placed = {p.referral_id: p for p in result.placements}
    for row in rows:
        placement = placed.get(row["referral"])
        if placement is not None:
            assert row["outcome"] == "placed"
            assert row["provider"] == instance.provider(placement.provider_id).name
            assert float(row["cost a year (£)"]) == pytest.approx(placement.cost * 52, abs=0.01)
    assert result.overnight is not None
    for child in result.overnight.children:
        [row] = [r for r in rows if r["referral"] == child.referral_id]
        assert int(row["nights given"]) == child.allocated
        assert int(row["nights asked for"]) == child.requested
    assert ["day placements", len(result.placements)] in totals.rows


def test_text_a_spreadsheet_would_run_is_written_as_text() -> None:
    instance = f.instance(
        providers=[f.provider(name='=HYPERLINK("http://x","y")')], referrals=[f.referral()]
    )
    candidates, _ = shortlist_tables(instance, rank(instance, "R-0001"))
    text = csv_text(candidates)
    assert "'=HYPERLINK" in text
    assert not any(line.split(",")[2].startswith("=") for line in text.splitlines()[1:])


def test_the_command_line_writes_csv_and_workbooks_and_checks_the_names_first(
    tmp_path: Path,
) -> None:
    from tests.test_cli import small_instance as small_file

    path = small_file(tmp_path)
    out_csv, out_xlsx = tmp_path / "who.csv", tmp_path / "who.xlsx"
    done = run("allocate", path, "--budget", "2", "--csv", out_csv, "--xlsx", out_xlsx)
    assert done.returncode == 0, done.stderr
    result = json.loads(run("allocate", path, "--budget", "2", "--json").stdout)
    rows = rows_of(out_csv.read_text(encoding="utf-8"))
    placed = {r["referral"] for r in rows if r["outcome"] == "placed"}
    assert {p["referral_id"] for p in result["placements"]} <= placed
    book = load_workbook(out_xlsx)
    assert book.sheetnames == ["Allocation", "Totals"]
    assert [c.value for c in book["Allocation"][1]][:4] == [
        "referral",
        "service",
        "district",
        "outcome",
    ]
    wrong = run("allocate", path, "--csv", tmp_path / "who.txt")
    assert wrong.returncode == 2 and "ending .csv" in wrong.stderr
    shortlist = tmp_path / "short.xlsx"
    ranked = run("rank", path, "--referral", "R-0001", "--xlsx", shortlist)
    assert ranked.returncode == 0, ranked.stderr
    sheets = load_workbook(shortlist)
    assert sheets.sheetnames == ["Shortlist", "Ruled out"]
    assert sheets["Shortlist"]["A2"].value == 1  # the best candidate first


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, str]]:
    url = f"sqlite:///{tmp_path_factory.mktemp('sheets') / 'register.sqlite'}"
    Register(url).replace(small_instance())
    with TestClient(create_app(config(url))) as client:
        yield client, url


def test_the_service_sends_shortlists_and_allocations_as_spreadsheets(
    service: tuple[TestClient, str],
) -> None:
    client, url = service
    sheet = client.get("/referrals/R-0001/shortlist?format=csv", headers=auth("navigator"))
    assert sheet.status_code == 200 and sheet.headers["content-type"].startswith("text/csv")
    names = [r["provider"] for r in rows_of(sheet.text)]
    ranked = client.post("/referrals/R-0001/matches", headers=auth("navigator")).json()
    assert names == [c["provider_name"] for c in ranked["candidates"]]
    job = client.post("/allocations", json={"budget": 2}, headers=auth("navigator")).json()
    state = finished_job(client, job["id"])
    assert state["status"] == "done"
    book = client.get(f"/allocations/{job['id']}/spreadsheet", headers=auth("navigator"))
    assert book.status_code == 200
    workbook = load_workbook(io.BytesIO(book.content))
    referrals = {row[0].value for row in workbook["Allocation"].iter_rows(min_row=2)}
    assert referrals == {"R-0001", "R-0002", "R-0003"}
    refused = client.get(f"/allocations/{job['id']}/spreadsheet", headers=auth("commissioner"))
    assert refused.status_code == 403  # it names children
    database = Database(url)
    with database.read() as session:
        rows = list(session.scalars(select(AuditRow)))
    database.dispose()
    assert "shortlist spreadsheet" in [r.detail for r in rows]
    read = sorted(r.referral_id for r in rows if "(spreadsheet)" in r.detail)
    assert read == ["R-0001", "R-0002", "R-0003"]  # each child in it, once


def test_an_unfinished_allocation_has_no_spreadsheet_yet(
    service: tuple[TestClient, str],
) -> None:
    from matcher.register import jobs

    client, url = service
    database = Database(url)
    with database.write() as session:  # a job marked running by a run that never ends
        job = jobs.create(
            session, jobs.JobKind.ALLOCATION, {}, "nav-1", "navigator", jobs.JobLimits()
        )
        job.status, job.runner = jobs.JobStatus.RUNNING.value, "elsewhere"
        job_id = job.id
    database.dispose()
    response = client.get(f"/allocations/{job_id}/spreadsheet", headers=auth("navigator"))
    assert response.status_code == 409 and response.json()["code"] == "not_done"
