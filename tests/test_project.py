"""The project's habits hold together: pre-commit runs what CI runs, the licence, the
changelog and the version agree, and README's test command is what CI runs."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

import matcher

ROOT = Path(__file__).resolve().parent.parent


def ci_command() -> str:
    return (ROOT / ".ci" / "run").read_text(encoding="utf-8").strip().splitlines()[-1]


def test_pre_commit_runs_what_ci_runs() -> None:
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    entries = [hook["entry"] for repo in config["repos"] for hook in repo["hooks"]]
    assert entries, "pre-commit runs nothing"
    for entry in entries:
        assert entry in ci_command(), f"pre-commit runs {entry!r}, which CI does not"
    for tool in (".venv/bin/ruff check", ".venv/bin/ruff format --check", ".venv/bin/mypy"):
        assert tool in entries, f"CI runs {tool!r} and pre-commit does not"


def test_readmes_test_command_is_what_ci_runs() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "    " + ci_command() + "\n" in readme


def test_coverage_is_measured_against_a_floor() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    floor = config["tool"]["coverage"]["report"]["fail_under"]
    assert "pytest --cov " in ci_command() + " "
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"floor of {floor} %" in readme, "README states the coverage floor CI holds"


def test_the_changelogs_newest_entry_is_the_version() -> None:
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    newest = re.search(r"^## (\d+\.\d+\.\d+)", changelog, re.M)
    assert newest is not None and newest.group(1) == matcher.__version__


def test_the_licence_is_the_one_the_package_declares() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert config["project"]["license"] == {"text": "MIT"}
    assert (ROOT / "LICENSE").read_text(encoding="utf-8").startswith("MIT License")
