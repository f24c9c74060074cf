"""The panel's approval of a fresh allocation of a county, whole: how many children it
books, keeps where they are placed already, and refuses (by code), and whether the ledger
stays exact. Loads the county into its own register (a SQLite file it is given).

    python benchmarks/approval.py [INSTANCE] [--database URL] [--effort quick]
"""

from __future__ import annotations

import argparse
import time
from collections import Counter

from matcher.allocate import allocate
from matcher.formats.files import load_instance
from matcher.register import ledger
from matcher.register.access import Principal, Role
from matcher.register.approval import approve
from matcher.register.jobs import open_journeys
from matcher.register.records import load_with_bookings
from matcher.register.store import Register
from matcher.result import Params


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("instance", nargs="?", default="scenarios/lancashire-county.json")
    parser.add_argument("--database", default="sqlite:///.matcher/approval-bench.sqlite")
    parser.add_argument("--effort", default="quick")
    args = parser.parse_args()
    register = Register(args.database)
    register.replace(load_instance(args.instance))
    with register.database.read() as session:
        instance = open_journeys(session, load_with_bookings(session))
    started = time.perf_counter()
    result = allocate(instance, Params(effort=args.effort, workers=2))
    solved = time.perf_counter() - started
    with register.database.write() as session:
        done = approve(
            session, load_with_bookings(session), result, Principal("bench", Role.NAVIGATOR)
        )
    with register.database.read() as session:
        exact = not ledger.discrepancies(session, load_with_bookings(session))
    print(
        f"allocated in {solved:.1f} s; booked {len(done.booked)}, kept {len(done.kept)}, "
        f"refused {len(done.refused)} {dict(Counter(r.code for r in done.refused))}; "
        f"ledger exact: {exact}"
    )


if __name__ == "__main__":
    main()
