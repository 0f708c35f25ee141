"""Write the deterministic `ops` seeds (a small airline) under seeds/ops/.

The schema is chosen for its key shapes, not its realism:

- airports          text primary key (code)
- flights           two foreign keys to one parent (origin, dest -> airports.code)
- employees         nullable self-reference (manager_id -> employee_id), a forest of trees
- flight_legs       composite primary key (flight_id, leg_no); flight_id -> flights
- crew_assignments  junction table: composite foreign key (flight_id, leg_no) -> flight_legs
                    and employee_id -> employees; composite primary key of all three

Every run with the same SEED writes byte-identical CSVs.

Usage:
    python scripts/make_ops_data.py seeds/ops
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import random
from pathlib import Path

SEED = 7
N_AIRPORTS = 40
N_FLIGHTS = 400
N_EMPLOYEES = 150
N_ROOTS = 4
MAX_CREW_ROWS = 2000

CITIES = [
    ("Lisbon", "Portugal"),
    ("Porto", "Portugal"),
    ("Madrid", "Spain"),
    ("Barcelona", "Spain"),
    ("Valencia", "Spain"),
    ("Paris", "France"),
    ("Lyon", "France"),
    ("Nice", "France"),
    ("Berlin", "Germany"),
    ("Munich", "Germany"),
    ("Hamburg", "Germany"),
    ("Frankfurt", "Germany"),
    ("Vienna", "Austria"),
    ("Zurich", "Switzerland"),
    ("Geneva", "Switzerland"),
    ("Milan", "Italy"),
    ("Rome", "Italy"),
    ("Naples", "Italy"),
    ("Athens", "Greece"),
    ("Dublin", "Ireland"),
    ("London", "United Kingdom"),
    ("Manchester", "United Kingdom"),
    ("Edinburgh", "United Kingdom"),
    ("Amsterdam", "Netherlands"),
    ("Brussels", "Belgium"),
    ("Copenhagen", "Denmark"),
    ("Oslo", "Norway"),
    ("Bergen", "Norway"),
    ("Stockholm", "Sweden"),
    ("Helsinki", "Finland"),
    ("Warsaw", "Poland"),
    ("Krakow", "Poland"),
    ("Prague", "Czechia"),
    ("Budapest", "Hungary"),
    ("Bucharest", "Romania"),
    ("Sofia", "Bulgaria"),
    ("Reykjavik", "Iceland"),
    ("Innsbruck", "Austria"),
    ("Tenerife", "Spain"),
    ("Valletta", "Malta"),
]
AIRPORT_SUFFIXES = ["International", "Airport", "City Airport", "Regional"]
STATUSES = ["scheduled", "departed", "arrived", "delayed", "cancelled"]
STATUS_WEIGHTS = [30, 10, 45, 10, 5]
DEPARTMENTS = ["flight_ops", "cabin", "ground", "maintenance", "admin"]
DEPARTMENT_WEIGHTS = [30, 40, 12, 10, 8]
SALARY_BASE = {
    "flight_ops": 95000,
    "cabin": 42000,
    "ground": 38000,
    "maintenance": 55000,
    "admin": 48000,
}
FIRST_NAMES = [
    "Ana",
    "Bruno",
    "Carla",
    "Diego",
    "Elena",
    "Farid",
    "Greta",
    "Hugo",
    "Ines",
    "Jonas",
    "Katya",
    "Luca",
    "Mara",
    "Nils",
    "Olga",
    "Pedro",
    "Rita",
    "Sven",
    "Tomas",
    "Ulla",
    "Vera",
    "Wim",
    "Yara",
    "Zoe",
]
LAST_NAMES = [
    "Almeida",
    "Berg",
    "Costa",
    "Dimitrov",
    "Eriksen",
    "Fischer",
    "Garcia",
    "Horvat",
    "Ivanova",
    "Jansen",
    "Kowalski",
    "Lindqvist",
    "Moreau",
    "Novak",
    "Olsen",
    "Petrov",
    "Rossi",
    "Schmidt",
    "Tanaka",
    "Varga",
    "Weber",
]
ROLES_BY_DEPARTMENT = {"flight_ops": ["captain", "first_officer"], "cabin": ["cabin"]}


def _write(out_dir: Path, name: str, fields: list[str], rows: list[list[object]]) -> None:
    with (out_dir / f"{name}.csv").open("w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(fields)
        writer.writerows(rows)


def _airports(rng: random.Random) -> list[list[object]]:
    rows = []
    for i, (city, country) in enumerate(CITIES[:N_AIRPORTS], start=1):
        name = f"{city} {rng.choice(AIRPORT_SUFFIXES)}"
        elevation = int(rng.triangular(-10, 1800, 60))
        hub = rng.random() < 0.2
        rows.append([f"AP{i:03d}", name, city, country, elevation, str(hub).lower()])
    return rows


def _flights(rng: random.Random, airports: list[list[object]]) -> list[list[object]]:
    codes = [row[0] for row in airports]
    # hubs are picked more often, so origin/dest are skewed like real networks
    weights = [5 if row[5] == "true" else 1 for row in airports]
    start = dt.datetime(2024, 3, 1, 5, 0)
    rows = []
    for flight_id in range(1, N_FLIGHTS + 1):
        origin = rng.choices(codes, weights)[0]
        others = [(c, w) for c, w in zip(codes, weights, strict=True) if c != origin]
        dest = rng.choices([c for c, _ in others], [w for _, w in others])[0]
        departs = start + dt.timedelta(minutes=5 * rng.randrange(0, 12 * 24 * 60))
        duration = rng.randint(45, 420)
        fare = round(rng.lognormvariate(4.8, 0.5) + duration * 0.3, 2)
        status = rng.choices(STATUSES, STATUS_WEIGHTS)[0]
        rows.append(
            [flight_id, origin, dest, departs.isoformat(sep=" "), duration, f"{fare:.2f}", status]
        )
    rows.sort(key=lambda r: (r[3], r[0]))
    return rows


def _employees(rng: random.Random) -> list[list[object]]:
    rows = []
    for employee_id in range(1, N_EMPLOYEES + 1):
        # managers always come earlier, so the self-reference is a forest with N_ROOTS roots
        manager = "" if employee_id <= N_ROOTS else rng.randint(1, min(employee_id - 1, 40))
        hired = dt.date(2005, 1, 1) + dt.timedelta(days=rng.randrange(0, 19 * 365))
        department = rng.choices(DEPARTMENTS, DEPARTMENT_WEIGHTS)[0]
        salary = round(SALARY_BASE[department] * rng.uniform(0.8, 1.6), 2)
        name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
        rows.append([employee_id, manager, hired.isoformat(), salary, name, department])
    return rows


def _flight_legs(rng: random.Random, flights: list[list[object]]) -> list[list[object]]:
    rows = []
    for flight_id in sorted(row[0] for row in flights):
        for leg_no in range(1, rng.choices([1, 2, 3], [60, 30, 10])[0] + 1):
            rows.append([flight_id, leg_no, round(rng.uniform(180.0, 3200.0), 3)])
    return rows


def _crew(
    rng: random.Random, legs: list[list[object]], employees: list[list[object]]
) -> list[list[object]]:
    by_role: dict[str, list[int]] = {"captain": [], "first_officer": [], "cabin": []}
    for employee_id, _, _, _, _, department in employees:
        for role in ROLES_BY_DEPARTMENT.get(department, []):
            by_role[role].append(employee_id)
    rows = []
    for flight_id, leg_no, _ in legs:
        captain = rng.choice(by_role["captain"])
        officer = rng.choice([e for e in by_role["first_officer"] if e != captain])
        crew = [(captain, "captain"), (officer, "first_officer")]
        crew += [(e, "cabin") for e in rng.sample(by_role["cabin"], rng.randint(0, 1))]
        rows += [[flight_id, leg_no, e, role] for e, role in crew]
    return rows[:MAX_CREW_ROWS]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path, help="seeds/ops")
    args = parser.parse_args()
    rng = random.Random(SEED)
    args.out_dir.mkdir(parents=True, exist_ok=True)

    airports = _airports(rng)
    flights = _flights(rng, airports)
    employees = _employees(rng)
    legs = _flight_legs(rng, flights)
    crew = _crew(rng, legs, employees)

    _write(
        args.out_dir,
        "airports",
        ["code", "name", "city", "country", "elevation_ft", "hub"],
        airports,
    )
    _write(
        args.out_dir,
        "flights",
        ["flight_id", "origin", "dest", "departs_at", "duration_min", "fare", "status"],
        flights,
    )
    _write(
        args.out_dir,
        "employees",
        ["employee_id", "manager_id", "hired_on", "salary", "name", "department"],
        employees,
    )
    _write(args.out_dir, "flight_legs", ["flight_id", "leg_no", "distance_km"], legs)
    _write(args.out_dir, "crew_assignments", ["flight_id", "leg_no", "employee_id", "role"], crew)


if __name__ == "__main__":
    main()
