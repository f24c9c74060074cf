"""Readable terminal output (rich tables) for rankings. It formats; it decides nothing."""

from __future__ import annotations

from collections import Counter

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from matcher.model import PRIORITY_LABELS, Instance, Referral
from matcher.ranking import Candidate, Ranking
from matcher.result import LevelResult, NightsResult, Result, StopReason
from matcher.rules.catalogue import CATALOGUE
from matcher.rules.explain import NEED_WORDS


def referral_summary(instance: Instance, referral: Referral) -> str:
    """One line about a referral, without personal data (no birth month, no names)."""
    parts = [
        referral.id,
        referral.service.label,
        referral.staff_ratio.value,
        f"lives in {instance.district_name(referral.home_district)}",
    ]
    if referral.service.is_overnight:
        parts.append(f"{referral.nights_per_month} nights a month")
    else:
        slots = ", ".join(
            f"{instance.slot_label(s)} {h:g} h" for s, h in referral.hours.items() if h > 0
        )
        parts.append(f"{referral.weekly_hours:g} h a week ({slots})")
    if referral.needs:
        parts.append("needs: " + ", ".join(NEED_WORDS[n] for n in referral.needs))
    if referral.priority:
        parts.append("priority: " + "; ".join(PRIORITY_LABELS[p] for p in referral.priority))
    return " · ".join(parts)


def _breakdown(candidate: Candidate) -> Text:
    text = Text()
    for i, part in enumerate(candidate.breakdown):
        if i:
            text.append("\n")
        text.append(
            f"{part.component.replace('_', ' ')} {part.points:.1f}/{part.max_points:g}", "bold"
        )
        text.append(f"  {part.detail}")
    for warning in candidate.warnings:
        text.append(f"\n! {warning.message}", "yellow")
    return text


def ranking_panel(instance: Instance, ranking: Ranking, *, examples: int | None = None) -> Panel:
    """A panel with the candidates table and the exclusions (all, or a summary)."""
    referral = instance.referral(ranking.referral_id)
    candidates = Table(title="May take the child, best first", title_justify="left", expand=True)
    candidates.add_column("#", justify="right")
    candidates.add_column("provider", ratio=1)
    candidates.add_column("score", justify="right")
    candidates.add_column("score broken down", ratio=3)
    for c in ranking.candidates:
        candidates.add_row(
            str(c.rank),
            Text(f"{c.provider_name} ({c.provider_id})"),
            f"{c.score:.1f}",
            _breakdown(c),
        )
    if not ranking.candidates:
        candidates.add_row("", Text("no provider may take this child now", style="bold red"))

    body: list[Table | Text] = [Text(referral_summary(instance, referral))]
    for reason in ranking.about_child:
        # About the child alone: it rules out every provider, so it is said once.
        body.append(Text(f"Every provider is ruled out: {reason.message}", style="bold red"))
    body.append(candidates)
    title = f"Excluded ({len(ranking.excluded)} providers)"
    if examples is not None and len(ranking.excluded) > examples:
        title += f", the {examples} nearest misses"
    excluded = Table(title=title, title_justify="left", expand=True)
    excluded.add_column("provider", ratio=1)
    excluded.add_column("reasons", ratio=3)
    shown = ranking.excluded
    if examples is not None:
        # Nearest misses first: the providers ruled out by the fewest reasons.
        shown = sorted(shown, key=lambda e: len(e.codes))[:examples]
    for e in shown:
        said = [r.message for r in e.reasons] or ["only the reason about the child, above"]
        excluded.add_row(Text(f"{e.provider_name} ({e.provider_id})"), Text("\n".join(said)))
    body.append(excluded)
    if examples is not None and len(ranking.excluded) > examples:
        counts = Counter(code for e in ranking.excluded for code in e.codes)
        summary = "; ".join(
            f"{CATALOGUE[code].title.lower()}: {n}" for code, n in counts.most_common()
        )
        body.append(Text(f"All the providers ruled out, by reason: {summary}", style="dim"))
    heading = Text(f"{referral.id}: {referral.service.label}")
    return Panel(Group(*body), title=heading, title_align="left")


def print_ranking(
    console: Console, instance: Instance, ranking: Ranking, *, examples: int | None = None
) -> None:
    console.print(ranking_panel(instance, ranking, examples=examples))


def print_result(console: Console, instance: Instance, result: Result) -> None:
    """The allocation: status and objective levels, placements by provider, the unplaced."""
    title = f"Allocation, day services: {result.status.value} ({result.source})"
    console.print(_levels_table(title, result.levels))
    placed = len(result.placements)
    total = placed + len(result.unplaced)
    cost = sum(p.cost for p in result.placements)
    console.print(
        f"{placed} of {total} day referrals placed, £{cost:,.2f} a week. "
        f"Solved in {result.timings.total_s:.2f} s (build {result.timings.build_s:.2f} s), "
        f"{result.budget_used:g} deterministic s; stopped by {_stopped(result.stopped_by)}."
    )
    unplaced = Table(title=f"Unplaced ({len(result.unplaced)})", title_justify="left", expand=True)
    unplaced.add_column("referral")
    unplaced.add_column("reason", ratio=1)
    for u in result.unplaced:
        unplaced.add_row(u.referral_id, Text("; ".join(r.message for r in u.reasons)))
    console.print(unplaced)
    if result.overnight is not None:
        print_nights(console, result.overnight)
    if result.reassess:
        reassess = Table(
            title=f"For the panel to reassess ({len(result.reassess)}): kept with a suspended "
            "provider",
            title_justify="left",
            expand=True,
        )
        reassess.add_column("referral")
        reassess.add_column("provider")
        reassess.add_column("service")
        reassess.add_column("reason", ratio=1)
        for r in result.reassess:
            reassess.add_row(r.referral_id, r.provider_id, r.service, Text(r.message, "yellow"))
        console.print(reassess)


def _stopped(reason: StopReason) -> str:
    return {
        StopReason.PROOF: "proof (every level optimal)",
        StopReason.BUDGET: "the budget (not proven: a larger effort may do better)",
        StopReason.WALL_CLOCK: "the wall-clock safety cap (another run may differ)",
    }[reason]


def _levels_table(title: str, levels: list[LevelResult]) -> Table:
    table = Table(title=title, title_justify="left")
    for column in ("level", "sense", "value", "bound", "proven", "greedy"):
        table.add_column(column, justify="left" if column in ("level", "sense") else "right")
    for lv in levels:
        table.add_row(
            lv.name,
            lv.sense,
            f"{lv.value:,}",
            f"{lv.bound:,}",
            "yes" if lv.optimal else "no",
            f"{lv.greedy:,}",
        )
    return table


def print_nights(console: Console, nights: NightsResult) -> None:
    """Overnight: occupancy per unit against its target, and children short of nights."""
    units = Table(
        title=f"Overnight, {nights.horizon_weeks} weeks from {nights.horizon_start}: "
        f"{nights.status.value}",
        title_justify="left",
    )
    for column in ("unit", "provider", "beds", "open bed-nights", "given", "occupancy", "target"):
        units.add_column(column, justify="left" if column in ("unit", "provider") else "right")
    for u in nights.units:
        units.add_row(
            u.unit_id,
            u.provider_id,
            str(u.beds),
            str(u.open_bed_nights),
            str(u.allocated),
            f"{100 * u.occupancy:.0f} %",
            f"{100 * u.target_occupancy:.0f} %",
        )
    console.print(units)
    console.print(_levels_table("Overnight objective levels", nights.levels))
    asked = sum(c.requested for c in nights.children)
    given = sum(c.allocated for c in nights.children)
    console.print(f"{given} of {asked} nights asked for given, to {len(nights.children)} children.")
    short = Table(title=f"Short of nights ({len(nights.short)})", title_justify="left", expand=True)
    short.add_column("referral")
    short.add_column("given", justify="right")
    short.add_column("short", justify="right")
    short.add_column("reason", ratio=1)
    child = {c.referral_id: c for c in nights.children}
    for s in nights.short:
        row = child.get(s.referral_id)
        given_text = f"{row.allocated} of {row.requested}" if row is not None else "–"
        short.add_row(
            s.referral_id,
            given_text,
            str(s.short),
            Text("; ".join(r.message for r in s.reasons)),
        )
    console.print(short)
