"""Errors a user can cause, reported as data: where the problem is and what was wrong.

Every error that reaches a person names its place (a file, a row and column, or a field
path such as ``referrals[3].home_district``) and never quotes a child's personal data.
The command line prints these and exits with status 2; it never shows a traceback for a
user's mistake.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with an input: where it is and what is wrong."""

    location: str
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message}" if self.location else self.message


class MatcherError(Exception):
    """A mistake in what a user gave the engine (a file, a row, a field, an option)."""

    def __init__(self, problems: list[Problem] | Problem | str, *, source: str | None = None):
        if isinstance(problems, str):
            problems = [Problem("", problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems = problems
        self.source = source
        super().__init__(self.render())

    def with_source(self, source: str) -> MatcherError:
        """The same problems, attributed to a file."""
        return type(self)(self.problems, source=source)

    def render(self, limit: int = 20) -> str:
        head = f"{self.source}: " if self.source else ""
        lines = [f"{head}{p}" for p in self.problems[:limit]]
        if len(self.problems) > limit:
            lines.append(f"... and {len(self.problems) - limit} more problems")
        return "\n".join(lines)


class InputError(MatcherError):
    """An instance, CSV file or option that does not describe a valid problem."""


class NotFound(MatcherError):
    """A record that does not exist, or that the person asking may not see."""


class Conflict(MatcherError):
    """A request that is well formed but clashes with the register's state: no capacity
    left, a child already placed, a provider the rules exclude. ``code`` is stable."""

    def __init__(self, code: str, problems: list[Problem] | Problem | str):
        self.code = code
        super().__init__(problems)
