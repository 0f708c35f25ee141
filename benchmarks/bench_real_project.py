"""A new user's run on a realistic project: integration_tests/jaffle_real on DuckDB (issue 9).

Loads the six raw tables (``load_raw.make_raw``, ``--items`` rows in ``raw_items``), then
runs what a user would, each command in its own process with default settings:

1. ``dbt deps`` and ``dbt build`` on the real data;
2. ``synthohive fit``;
3. ``synthohive generate --target duckdb_synthetic --environment`` and the project's own
   ``dbt build --target duckdb_synthetic``;
4. ``synthohive generate`` (schema ``synthohive`` beside the real data) and
   ``dbt test --select source:synthohive``.

Prints one JSON object: seconds per step, per-node outcome counts of both builds (and the
nodes that did not pass, with dbt's message), the generated tests' counts and failures,
rows per table, and SQL checks of the synthetic raw tables of step 3 against the real
ones: duplicate keys, FK values without a parent, real key values that reappear, and
orders whose ``order_total`` is not ``subtotal + tax_paid``.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_real_project.py --items 100000

``--model``/``--epochs`` are passed to ``fit`` only when given (default: the library's).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
OK = {"success", "pass"}

# The keys and FKs of the raw tables, as the project's staging models declare them.
KEYS = {
    "raw_customers": ["id"],
    "raw_stores": ["id"],
    "raw_products": ["sku"],
    "raw_orders": ["id"],
    "raw_items": ["id"],
    "raw_supplies": ["id", "sku"],
}
FKS = [
    ("raw_orders", "customer", "raw_customers", "id"),
    ("raw_orders", "store_id", "raw_stores", "id"),
    ("raw_items", "order_id", "raw_orders", "id"),
    ("raw_items", "sku", "raw_products", "sku"),
    ("raw_supplies", "sku", "raw_products", "sku"),
]


def load_raw_module():
    path = ROOT / "integration_tests" / "jaffle_real" / "load_raw.py"
    spec = importlib.util.spec_from_file_location("jaffle_real_load_raw", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run(command: list[str], project: Path, env: dict[str, str]) -> tuple[float, int, str]:
    """Seconds, exit code and the output's tail of ``command`` run in ``project``."""
    start = time.perf_counter()
    done = subprocess.run(command, cwd=project, env=env, capture_output=True, text=True)
    return time.perf_counter() - start, done.returncode, (done.stdout + done.stderr)[-1000:]


def dbt(project: Path, env: dict[str, str], *args: str, target: str) -> tuple[float, int, str]:
    command = [str(BIN / "dbt"), *args, "--profiles-dir", ".", "--target", target]
    return run(command, project, env)


def synthohive(project: Path, env: dict[str, str], *args: str, target: str):
    command = [str(BIN / "synthohive"), *args, "--project", ".", "--profiles-dir", "."]
    return run([*command, "--target", target, "--quiet"], project, env)


def outcome(project: Path) -> dict:
    """Counts of the last dbt command's node statuses, and the nodes that did not pass."""
    results = json.loads((project / "target" / "run_results.json").read_text())["results"]
    counts = Counter(r["status"] for r in results)
    not_ok = [
        {"node": r["unique_id"], "status": r["status"], "message": r.get("message")}
        for r in results
        if r["status"] not in OK
    ]
    return {"nodes": len(results), "counts": dict(sorted(counts.items())), "not_ok": not_ok}


def integrity(real: Path, synthetic: Path, schema: str) -> dict:
    """SQL checks of the synthetic raw tables, against the real ones where it says so."""
    import duckdb

    con = duckdb.connect()
    try:
        con.execute(f"attach '{real}' as real_db (read_only)")
        con.execute(f"attach '{synthetic}' as synth_db (read_only)")

        def one(sql: str) -> int:
            return int(con.execute(sql).fetchone()[0])

        def rel(db: str, table: str) -> str:
            return f"{db}.{schema}.{table}"

        rows = {
            side: {t: one(f"select count(*) from {rel(db, t)}") for t in KEYS}
            for side, db in (("real", "real_db"), ("synthetic", "synth_db"))
        }
        duplicates, copied = {}, {}
        for table, key in KEYS.items():
            columns = ", ".join(key)
            duplicates[table] = one(
                f"select count(*) from (select {columns} from {rel('synth_db', table)} "
                f"group by {columns} having count(*) > 1)"
            )
            copied[table] = one(
                f"select count(*) from (select distinct {columns} from {rel('synth_db', table)} "
                f"intersect select {columns} from {rel('real_db', table)})"
            )
        orphans = {
            f"{child}.{column} -> {parent}.{key}": one(
                f"select count(*) from {rel('synth_db', child)} c "
                f"where c.{column} is not null and not exists "
                f"(select 1 from {rel('synth_db', parent)} p where p.{key} = c.{column})"
            )
            for child, column, parent, key in FKS
        }
        mismatch = one(
            f"select count(*) from {rel('synth_db', 'raw_orders')} "
            "where order_total is distinct from subtotal + tax_paid"
        )
    finally:
        con.close()
    return {
        "rows": rows,
        "duplicate_keys": duplicates,
        "orphan_fks": orphans,
        "real_keys_copied": copied,
        "orders_total_not_subtotal_plus_tax": mismatch,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=100_000, help="rows of raw_items")
    parser.add_argument("--seed", type=int, default=0, help="seed of the raw data")
    parser.add_argument("--model", help="synthohive fit --model (default: the library's)")
    parser.add_argument("--epochs", type=int, help="synthohive fit --epochs")
    parser.add_argument("--workdir", help="where the project copy goes (default: a temp dir)")
    args = parser.parse_args(argv)

    raw = load_raw_module()
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="bench_real_project_"))
    workdir.mkdir(parents=True, exist_ok=True)
    project = raw.copy_project(workdir)
    real_db, synth_db = workdir / "real.duckdb", workdir / "synthetic.duckdb"
    for stale in (real_db, synth_db):
        stale.unlink(missing_ok=True)
    env = {
        **os.environ,
        "SYNTHOHIVE_JR_DUCKDB": str(real_db),
        "SYNTHOHIVE_JR_DUCKDB_SYNTH": str(synth_db),
    }

    seconds, steps = {}, {}
    start = time.perf_counter()
    raw.write_duckdb(real_db, "main_raw", raw.make_raw(args.items, args.seed))
    seconds["load_raw"] = time.perf_counter() - start

    def step(name: str, result: tuple[float, int, str]) -> bool:
        seconds[name], code, tail = result
        steps[name] = {"exit_code": code, **({"output_tail": tail} if code else {})}
        return code == 0

    fit_options = [*(["--model", args.model] if args.model else []),
                   *(["--epochs", str(args.epochs)] if args.epochs else [])]  # fmt: skip
    report: dict = {"items": args.items, "seed": args.seed, "fit_options": fit_options}
    step("dbt_deps", dbt(project, env, "deps", target="duckdb"))
    step("real_build", dbt(project, env, "build", target="duckdb"))
    report["real_build"] = outcome(project)
    if step("fit", synthohive(project, env, "fit", *fit_options, target="duckdb")):
        gen = synthohive(project, env, "generate", "--environment", target="duckdb_synthetic")
        if step("generate_environment", gen):
            step("synthetic_build", dbt(project, env, "build", target="duckdb_synthetic"))
            report["synthetic_build"] = outcome(project)
            report["integrity"] = integrity(real_db, synth_db, "main_raw")
        if step("generate_schema", synthohive(project, env, "generate", target="duckdb")):
            test = ["test", "--select", "source:synthohive"]
            step("source_tests", dbt(project, env, *test, target="duckdb"))
            tests = outcome(project)
            report["source_tests"] = {
                "nodes": tests["nodes"],
                "counts": tests["counts"],
                "failures": [r["node"].split(".")[2] for r in tests["not_ok"]],
            }
    report["seconds"] = {name: round(value, 2) for name, value in seconds.items()}
    report["steps"] = steps
    report["machine"] = {
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
    }
    report["workdir"] = str(workdir)
    json.dump(report, sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
