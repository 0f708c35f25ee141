"""Write the deterministic fidelity seeds under seeds/fidelity/.

They prove the synthohive generic tests (macros/fidelity, macros/generic_tests): every test
passes on the "good" tables and fails on the "broken" ones.

- fid_real             the "real" table: correlated numeric columns (amount, score), a date,
                       a timestamp, a categorical with NULLs (segment), a few NULL scores
- fid_good             independent draws from the same distribution; no row equals a real row
- fid_broken           few rows, amount shifted, later dates and timestamps, another segment
                       mix, half the scores NULL and uncorrelated with amount, and some rows
                       copied verbatim from fid_real
- fid_parent_*, fid_child_*
                       parents and children (real, good, broken) for children_per_parent:
                       Poisson children per parent in real and good, a few parents holding
                       every child in broken; some children have a NULL parent_id
- fid_legs, fid_legs_duplicated
                       composite key (flight_id, leg_no), unique / with duplicates
- fid_leg_events, fid_leg_events_orphaned
                       composite foreign key (flight_id, leg_no) -> fid_legs, resolving /
                       with orphans; NULL leg_no rows are not checked

Every run with the same SEED writes byte-identical CSVs.

Usage:
    python scripts/make_fidelity_data.py seeds/fidelity
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
from pathlib import Path

import numpy as np

SEED = 20240611
N_REAL = 300
N_GOOD = 300
N_BROKEN = 60
N_COPIED = 6
SEGMENTS = ["bronze", "silver", "gold", "platinum"]
SEGMENT_P = [0.4, 0.3, 0.2, 0.1]
BROKEN_SEGMENT_P = [0.1, 0.1, 0.2, 0.6]
SEGMENT_NULL_RATE = 0.08
SCORE_NULL_RATE = 0.05
BROKEN_SCORE_NULL_RATE = 0.5
RHO = 0.8
DATE_START = dt.date(2023, 1, 1)
TIMESTAMP_START = dt.datetime(2024, 1, 1)
N_PARENTS = 80
CHILDREN_MEAN = 2.5
N_BROKEN_HOLDERS = 8
N_FLIGHTS = 20

CUSTOMER_COLUMNS = ["id", "amount", "score", "signup_date", "created_at", "segment"]


def customers(
    rng: np.random.Generator, n: int, first_id: int, broken: bool = False
) -> list[list[object]]:
    """Rows of the customer-like table; `broken` changes every property a test checks."""
    z_amount = rng.standard_normal(n)
    noise = rng.standard_normal(n)
    rho = 0.0 if broken else RHO
    z_score = rho * z_amount + np.sqrt(1 - rho**2) * noise
    amount = 100 + 20 * z_amount + (45 if broken else 0)
    score = 50 + 10 * z_score
    days = rng.integers(0, 730, n) + (400 if broken else 0)
    seconds = rng.integers(0, 90 * 86400, n) + (60 * 86400 if broken else 0)
    segment = rng.choice(SEGMENTS, size=n, p=BROKEN_SEGMENT_P if broken else SEGMENT_P)
    segment_null = rng.random(n) < SEGMENT_NULL_RATE
    score_null = rng.random(n) < (BROKEN_SCORE_NULL_RATE if broken else SCORE_NULL_RATE)
    rows = []
    for i in range(n):
        rows.append(
            [
                first_id + i,
                f"{amount[i]:.2f}",
                "" if score_null[i] else f"{score[i]:.2f}",
                (DATE_START + dt.timedelta(days=int(days[i]))).isoformat(),
                (TIMESTAMP_START + dt.timedelta(seconds=int(seconds[i]))).isoformat(sep=" "),
                "" if segment_null[i] else str(segment[i]),
            ]
        )
    return rows


def copied_rows(rng: np.random.Generator, real: list[list[object]], first_id: int):
    """Real rows with every compared column present, copied with a new id."""
    complete = [row for row in real if all(value != "" for value in row)]
    picks = rng.choice(len(complete), size=N_COPIED, replace=False)
    return [[first_id + k, *complete[int(p)][1:]] for k, p in enumerate(sorted(picks))]


def assert_no_copies(real: list[list[object]], synthetic: list[list[object]]) -> None:
    """The good table must not share a complete (amount, score, date, segment) with real."""

    def key(row: list[object]) -> tuple[object, ...]:
        return (row[1], row[2], row[3], row[5])

    real_keys = {key(row) for row in real if "" not in key(row)}
    shared = [row for row in synthetic if key(row) in real_keys]
    if shared:
        raise SystemExit(f"good table copies real rows: {shared}; change SEED")


def parents_and_children(
    rng: np.random.Generator, counts: np.ndarray
) -> tuple[list[list[object]], list[list[object]]]:
    """Parents 1..N_PARENTS and children with `counts[i]` children for parent i + 1."""
    parents = [[i + 1, f"region_{(i % 5) + 1}"] for i in range(N_PARENTS)]
    parent_ids = np.repeat(np.arange(1, N_PARENTS + 1), counts)
    rng.shuffle(parent_ids)
    children = [[k + 1, int(p), int(rng.integers(1, 10))] for k, p in enumerate(parent_ids)]
    # a few children without a parent: NULL foreign keys are not counted
    for _ in range(3):
        children.append([len(children) + 1, "", int(rng.integers(1, 10))])
    return parents, children


def broken_counts(rng: np.random.Generator, total: int) -> np.ndarray:
    """Every child on a handful of parents: most parents have none."""
    counts = np.zeros(N_PARENTS, dtype=int)
    holders = rng.choice(N_PARENTS, size=N_BROKEN_HOLDERS, replace=False)
    counts[holders] = rng.multinomial(total, np.full(N_BROKEN_HOLDERS, 1 / N_BROKEN_HOLDERS))
    return counts


def legs(rng: np.random.Generator) -> list[list[object]]:
    """(flight_id, leg_no) unique: one to three legs per flight."""
    rows = []
    for flight in range(1, N_FLIGHTS + 1):
        for leg in range(1, int(rng.integers(1, 4)) + 1):
            rows.append([flight, leg, f"{rng.uniform(200, 3000):.1f}"])
    return rows


def leg_events(rng: np.random.Generator, leg_rows: list[list[object]]) -> list[list[object]]:
    """Events on existing legs, two with a NULL leg_no (not checked)."""
    picks = rng.integers(0, len(leg_rows), 50)
    rows = [[k + 1, leg_rows[p][0], leg_rows[p][1]] for k, p in enumerate(picks)]
    rows += [[51, 1, ""], [52, 2, ""]]
    return rows


def write(path: Path, header: list[str], rows: list[list[object]]) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="folder for the CSVs (seeds/fidelity)")
    out = parser.parse_args(argv).out
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(SEED)

    real = customers(rng, N_REAL, 1)
    good = customers(rng, N_GOOD, 1001)
    assert_no_copies(real, good)
    broken = customers(rng, N_BROKEN - N_COPIED, 2001, broken=True)
    broken += copied_rows(rng, real, 2001 + len(broken))
    for name, rows in (("fid_real", real), ("fid_good", good), ("fid_broken", broken)):
        write(out / f"{name}.csv", CUSTOMER_COLUMNS, rows)

    real_counts = rng.poisson(CHILDREN_MEAN, N_PARENTS)
    good_counts = rng.poisson(CHILDREN_MEAN, N_PARENTS)
    for name, counts in (
        ("real", real_counts),
        ("good", good_counts),
        ("broken", broken_counts(rng, int(real_counts.sum()))),
    ):
        parents, children = parents_and_children(rng, counts)
        write(out / f"fid_parent_{name}.csv", ["parent_id", "region"], parents)
        write(out / f"fid_child_{name}.csv", ["child_id", "parent_id", "quantity"], children)

    leg_rows = legs(rng)
    write(out / "fid_legs.csv", ["flight_id", "leg_no", "distance_km"], leg_rows)
    duplicated = leg_rows + [[leg_rows[0][0], leg_rows[0][1], "999.0"], leg_rows[5]]
    write(out / "fid_legs_duplicated.csv", ["flight_id", "leg_no", "distance_km"], duplicated)
    events = leg_events(rng, leg_rows)
    write(out / "fid_leg_events.csv", ["event_id", "flight_id", "leg_no"], events)
    orphaned = events + [[53, 99, 1], [54, 1, 9]]
    write(out / "fid_leg_events_orphaned.csv", ["event_id", "flight_id", "leg_no"], orphaned)


if __name__ == "__main__":
    main()
