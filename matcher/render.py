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
    """The allocation in words: who goes where, who is left waiting and why, how far it
    is proven, and each rule in the council's order (day services, then overnight)."""
    day_children = sum(not r.service.is_overnight for r in instance.referrals)
    if day_children:
        placed = len(result.placements)
        cost = sum(p.cost for p in result.placements)
        console.print(
            Text(
                f"Day services: {placed} of {day_children} children placed, £{cost:,.0f} a week.",
                style="bold",
            )
        )
        console.print(_proof_words(result.levels, result.stopped_by))
        console.print(_who_goes_where(instance, result))
        if result.unplaced:
            waiting = Table(
                title=f"Left waiting ({len(result.unplaced)})", title_justify="left", expand=True
            )
            waiting.add_column("referral")
            waiting.add_column("why", ratio=1)
            for u in result.unplaced:
                waiting.add_row(u.referral_id, Text("; ".join(r.message for r in u.reasons)))
            console.print(waiting)
        else:
            console.print("Nobody is left waiting for a day place.")
        console.print(_rules_table("Day services, each rule in the council's order", result.levels))
    if result.overnight is not None:
        print_nights(console, instance, result.overnight)
    if result.reassess:
        reassess = Table(
            title=f"For the panel to reassess ({len(result.reassess)}): kept with a suspended "
            "provider, or where the rules no longer allow",
            title_justify="left",
            expand=True,
        )
        reassess.add_column("referral")
        reassess.add_column("provider")
        reassess.add_column("service")
        reassess.add_column("why", ratio=1)
        for r in result.reassess:
            reassess.add_row(
                r.referral_id,
                instance.provider_name(r.provider_id),
                r.service,
                Text(r.message, "yellow"),
            )
        console.print(reassess)
    total = result.timings.total_s + (result.overnight.solve_s if result.overnight else 0.0)
    console.print(Text(f"Took {total:.1f} s.", style="dim"))


def _proof_words(levels: list[LevelResult], stopped_by: StopReason) -> Text:
    """How far the allocation is proven, in words."""
    first = next((i for i, lv in enumerate(levels) if not lv.optimal), None)
    if first is None:
        return Text("Proven the best possible by the council's rules.", style="green")
    words = _rule_words(levels[first].name)
    if first == 0:
        text = f"Not proven the best: a larger effort may do better, starting with {words}."
    else:
        proven = ", ".join(_rule_words(lv.name) for lv in levels[:first])
        text = (
            f"Proven the best for {proven}; not proven for {words} and after: a larger "
            "effort may still improve those."
        )
    if stopped_by is StopReason.WALL_CLOCK:
        text += " The safety time limit stopped the search, so another run may differ."
    return Text(text, style="yellow")


def _rule_words(name: str) -> str:
    from matcher.scenario.report import level_words

    return level_words(name)


def _who_goes_where(instance: Instance, result: Result) -> Table:
    table = Table(title="Who goes where", title_justify="left", expand=True)
    table.add_column("referral")
    table.add_column("provider", ratio=1)
    table.add_column("when", ratio=1)
    table.add_column("£ a week", justify="right")
    for p in sorted(
        result.placements, key=lambda p: (instance.provider_name(p.provider_id), p.referral_id)
    ):
        when = ", ".join(
            f"{instance.slot_label(s)} {round(h, 2):g} h" for s, h in p.staff_hours.items()
        )
        moved = " (moved)" if p.moved else ""
        table.add_row(
            p.referral_id,
            Text(instance.provider_name(p.provider_id) + moved),
            Text(when),
            f"{p.cost:,.0f}",
        )
    if not result.placements:
        table.add_row("", Text("nobody is placed", style="bold red"), "", "")
    return table


def _rules_table(title: str, levels: list[LevelResult]) -> Table:
    """Each level as a rule of the council's, in words: what it aims at, what was
    achieved, the best possible, and whether that is proven."""
    table = Table(title=title, title_justify="left")
    table.add_column("rule")
    table.add_column("aim")
    table.add_column("achieved", justify="right")
    table.add_column("best possible", justify="right")
    table.add_column("proven?")
    for lv in levels:

        def amount(value: int, name: str = lv.name) -> str:
            return f"£{value / 100:,.0f}" if name == "cost" else f"{value:,}"

        table.add_row(
            _rule_words(lv.name),
            "most" if lv.sense == "max" else "fewest" if lv.name != "cost" else "lowest",
            amount(lv.value),
            amount(lv.bound),
            "yes" if lv.optimal else "no",
        )
    return table


def print_nights(console: Console, instance: Instance, nights: NightsResult) -> None:
    """Overnight: nights given, who stays where, occupancy per unit against its target,
    and children short of nights with the reason."""
    asked = sum(c.requested for c in nights.children)
    given = sum(c.allocated for c in nights.children)
    start = f"{nights.horizon_start.day} {nights.horizon_start:%B %Y}"
    console.print(
        Text(
            f"Overnight stays, {nights.horizon_weeks} weeks from {start}: {given} of {asked} "
            f"nights asked for given, to {len(nights.children)} children.",
            style="bold",
        )
    )
    console.print(_proof_words(nights.levels, nights.stopped_by))
    names = {u.id: f"{u.name} ({p.name})" for p in instance.providers for u in p.units}
    stays = Table(title="Who stays where", title_justify="left", expand=True)
    stays.add_column("referral")
    stays.add_column("unit", ratio=1)
    stays.add_column("nights", justify="right")
    stays.add_column("on preferred nights", justify="right")
    for c in nights.children:
        stays.add_row(
            c.referral_id,
            Text(", ".join(names.get(u, u) for u in c.units) or "none"),
            f"{c.allocated} of {c.requested}",
            str(c.on_preferred_nights),
        )
    console.print(stays)
    units = Table(title="Units", title_justify="left")
    for column in ("unit", "beds", "open bed-nights", "given", "occupancy", "target"):
        units.add_column(column, justify="left" if column == "unit" else "right")
    for u in nights.units:
        units.add_row(
            Text(names.get(u.unit_id, u.unit_id)),
            str(u.beds),
            str(u.open_bed_nights),
            str(u.allocated),
            f"{100 * u.occupancy:.0f} %",
            f"{100 * u.target_occupancy:.0f} %",
        )
    console.print(units)
    if nights.short:
        short = Table(
            title=f"Short of nights ({len(nights.short)})", title_justify="left", expand=True
        )
        short.add_column("referral")
        short.add_column("given", justify="right")
        short.add_column("short", justify="right")
        short.add_column("why", ratio=1)
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
    else:
        console.print("Every child is given every night asked for.")
    console.print(_rules_table("Overnight stays, each rule in the council's order", nights.levels))
