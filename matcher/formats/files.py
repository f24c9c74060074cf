"""Instance files in JSON or YAML, read with errors that name the file, and written atomically.

Nothing is ever half-written: output goes to a temporary file beside the target and is
renamed into place only once it is complete.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from matcher.errors import InputError, MatcherError, Problem
from matcher.model import Instance, Settings, problems_from_validation

SUFFIXES = {".json": "json", ".yaml": "yaml", ".yml": "yaml"}


def _format_of(path: Path) -> str:
    try:
        return SUFFIXES[path.suffix.lower()]
    except KeyError:
        raise InputError(
            Problem(str(path), "expected a .json, .yaml or .yml file"), source=None
        ) from None


def read_document(path: Path) -> Any:
    """Parse a JSON or YAML file into Python data, with a clear error if it does not parse."""
    kind = _format_of(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(Problem(str(path), "file not found")) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(Problem(str(path), f"cannot read: {exc}")) from None
    try:
        if kind == "json":
            return json.loads(text)
        return yaml.safe_load(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            Problem(f"{path}, line {exc.lineno}, column {exc.colno}", f"not valid JSON: {exc.msg}")
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}, line {mark.line + 1}" if mark is not None else str(path)
        reason = getattr(exc, "problem", None) or "not valid YAML"
        raise InputError(Problem(where, f"not valid YAML: {reason}")) from None


def load_instance(path: str | Path) -> Instance:
    """Read and validate an instance file; every error names the file and the field path."""
    path = Path(path)
    data = read_document(path)
    if not isinstance(data, dict):
        raise InputError(
            Problem(str(path), "expected a mapping with settings, providers, referrals")
        )
    try:
        return Instance.build(data)
    except MatcherError as exc:
        raise exc.with_source(str(path)) from None


def load_settings(path: str | Path, defaults: Settings | None = None) -> Settings:
    """Read a council's settings (the ``settings`` block of an instance) from JSON or YAML.

    With ``defaults``, the file need give only the fields that differ: each field it gives
    replaces the default's whole (give ``districts`` and you give ``travel_minutes`` too).
    """
    path = Path(path)
    data = read_document(path)
    if isinstance(data, dict) and "settings" in data:
        data = data["settings"]  # a whole instance file also names its settings
    if defaults is not None and isinstance(data, dict):
        data = defaults.model_dump(mode="json") | data
    try:
        settings = Settings.model_validate(data)
        # The cross-references (travel between every pair of places, unique ids) are the
        # instance's checks: run them on the settings alone, so errors name this file.
        Instance.build({"settings": settings})
    except ValidationError as exc:
        raise InputError(problems_from_validation(exc), source=str(path)) from None
    except MatcherError as exc:
        raise exc.with_source(str(path)) from None
    return settings


def instance_document(instance: Instance) -> dict[str, Any]:
    """The instance as plain JSON-compatible data (defaults left out to keep files short)."""
    return instance.model_dump(mode="json", exclude_defaults=True)


def render(data: Any, kind: str) -> str:
    if kind == "json":
        return json.dumps(data, indent=1, ensure_ascii=False) + "\n"
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


def save_instance(instance: Instance, path: str | Path) -> None:
    """Write an instance as JSON or YAML (by the file's suffix), atomically."""
    path = Path(path)
    write_text_atomic(path, render(instance_document(instance), _format_of(path)))


def writable_file(path: Path) -> Path:
    """``path`` if a file can be written there, checked before any work that ends in
    writing it: not a folder, and not under a file."""
    if path.is_dir():
        raise InputError(Problem(str(path), "is a folder: give a file name"))
    _no_file_above(path)
    return path


def writable_folder(path: Path) -> Path:
    """``path`` if a folder of results can be written there, checked before any work."""
    if path.exists() and not path.is_dir():
        raise InputError(Problem(str(path), "exists and is not a folder: give a folder"))
    _no_file_above(path)
    return path


def _no_file_above(path: Path) -> None:
    for parent in path.absolute().parents:
        if parent.exists():
            if not parent.is_dir():
                raise InputError(Problem(str(path), f"{parent} is a file, not a folder"))
            return


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file, so a failure leaves nothing behind."""
    write_bytes_atomic(path, text.encode("utf-8"))


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file, so a failure leaves nothing behind."""
    if path.is_dir():
        raise InputError(Problem(str(path), "is a folder: give a file name"))
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
