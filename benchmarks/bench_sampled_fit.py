"""Fitting a warehouse larger than the machine: ``fit --sample-rows`` (issue 14).

Builds a DuckDB file with a fact table ``sales`` (``--facts`` rows, default 50,000,000)
and two dimension tables, ``customers`` (``--customers``, default 10,000,000) and
``products`` (``--products``, default 100,000), FKs from sales to both. Then, each in its
own process (peak RSS per phase): fit with ``sample_rows=--sample-rows`` (default
200,000) and the default model, and generate at scale 1 into schema ``synth`` with the
privacy metrics, as ``synthohive generate`` does. Prints JSON: sizes, the fit's read
seconds and total seconds, rows read, generated rows (real sizes expected), orphans per
FK, peak RSS per phase.

    python benchmarks/bench_sampled_fit.py --facts 50000000 --sample-rows 200000
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FKS = (("sales", "customer_id", "customers", "id"), ("sales", "sku", "products", "sku"))


def build(path: Path, facts: int, customers: int, products: int) -> float:
    import duckdb

    start = time.perf_counter()
    con = duckdb.connect(str(path))
    con.execute("create schema raw")
    con.execute(f"""
        create table raw.customers as
        select i + 1 as id,
               ['retail', 'pro', 'enterprise'][1 + (hash(i) % 3)::int] as segment,
               18 + (hash(i * 7) % 60)::int as age
        from range({customers}) t(i)""")
    con.execute(f"""
        create table raw.products as
        select i + 1 as sku,
               ['books', 'games', 'tools', 'food', 'toys'][1 + (hash(i) % 5)::int] as category,
               round(1 + (hash(i * 13) % 20000) / 100.0, 2) as price
        from range({products}) t(i)""")
    con.execute(f"""
        create table raw.sales as
        select i + 1 as sale_id,
               1 + (hash(i) % {customers})::bigint as customer_id,
               1 + (hash(i * 31) % {products})::bigint as sku,
               1 + (hash(i * 17) % 5)::int as qty,
               timestamp '2024-01-01' + to_seconds((hash(i * 3) % 31536000)::bigint) as sold_at
        from range({facts}) t(i)""")
    con.close()
    return time.perf_counter() - start


def graph():
    from synthohive_dbt.schema import (
        Column,
        ColumnType,
        ForeignKey,
        LogicalType,
        Origin,
        PrimaryKey,
        SchemaGraph,
        Table,
    )  # fmt: skip

    integer, text = (
        ColumnType(LogicalType.INTEGER, "BIGINT"),
        ColumnType(LogicalType.TEXT, "VARCHAR"),
    )
    double = ColumnType(LogicalType.FLOAT, "DOUBLE")
    stamp = ColumnType(LogicalType.TIMESTAMP, "TIMESTAMP")
    origin = Origin("benchmark", "bench_sampled_fit")

    def table(name, cols, pk):
        columns = tuple(Column(n, type=t) for n, t in cols)
        return Table(f"source.bench.raw.{name}", name, "source", None, "raw", name,
                     columns=columns, primary_key=PrimaryKey(pk, origin))  # fmt: skip

    tables = {
        "customers": table("customers", [("id", integer), ("segment", text), ("age", integer)],
                           ("id",)),
        "products": table("products", [("sku", integer), ("category", text), ("price", double)],
                          ("sku",)),
        "sales": table("sales", [("sale_id", integer), ("customer_id", integer), ("sku", integer),
                                 ("qty", integer), ("sold_at", stamp)], ("sale_id",)),
    }  # fmt: skip
    fks = tuple(
        ForeignKey(tables[c].key, (cc,), tables[p].key, (pc,), origin, nullable=False)
        for c, cc, p, pc in FKS
    )
    order = tuple(tables[n].key for n in ("customers", "products", "sales"))
    return SchemaGraph({t.key: t for t in tables.values()}, fks, order)


def _warehouse(path: Path):
    import duckdb

    from synthohive_dbt.warehouse.duckdb import DuckDBWarehouse

    return DuckDBWarehouse.from_connection(duckdb.connect(str(path)))


def worker_fit(args) -> dict:
    from synthohive_dbt.pipeline import fit_graph
    from synthohive_dbt.progress import EventLog, Reporter, Stage

    log = EventLog()
    stamps: dict[str, float] = {}

    def clock(event):
        if isinstance(event, Stage):
            stamps[event.stage] = time.perf_counter()

    start = time.perf_counter()
    with _warehouse(Path(args.db)) as wh:
        model, _, rows = fit_graph(
            graph(), wh, seed=0, sample_rows=args.sample_rows, reporter=Reporter(log, clock)
        )
    model.save(Path(args.artifacts))
    return {
        "read_s": stamps["fit"] - stamps["read"],
        "fit_total_s": time.perf_counter() - start,
        "rows_read": rows,
        "real_rows": {p.name: p.rows for p in model.plans.values()},
    }


def worker_generate(args) -> dict:
    from synthohive_dbt.generation import measure_privacy, schema_destinations, write_tables
    from synthohive_dbt.options import GenerateOptions
    from synthohive_dbt.relational import RelationalModel

    model = RelationalModel.load(Path(args.artifacts))
    start = time.perf_counter()
    with _warehouse(Path(args.db)) as wh:
        where = schema_destinations(model, "synth")
        written = write_tables(model, wh, where, GenerateOptions(seed=1))
        gen_s = time.perf_counter() - start
        write_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        privacy = measure_privacy(model, wh, where, seed=1)
        orphans = {
            f"{c}.{cc} -> {p}.{pc}": int(wh._fetch(
                f"select count(*) from synth.{c} x left join synth.{p} y on x.{cc} = y.{pc} "
                f"where y.{pc} is null")[0][0])
            for c, cc, p, pc in FKS
        }  # fmt: skip
    return {
        "generate_s": gen_s,
        "privacy_s": time.perf_counter() - start - gen_s,
        "written": written,
        "peak_rss_after_write_mb": write_rss,
        "orphans": orphans,
        "privacy_passed": {p.table: p.passed for p in privacy},
    }


def _run(phase: str, args) -> dict:
    cmd = [sys.executable, __file__, "--worker", phase, "--db", args.db,
           "--artifacts", args.artifacts, "--sample-rows", str(args.sample_rows)]  # fmt: skip
    out = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if out.returncode:
        sys.exit(f"{phase} failed:\n{out.stderr[-4000:]}")
    return json.loads(out.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--facts", type=int, default=50_000_000)
    parser.add_argument("--customers", type=int, default=10_000_000)
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--sample-rows", type=int, default=200_000)
    parser.add_argument("--workdir", default=None)
    parser.add_argument("--worker", choices=["fit", "generate"], default=None)
    parser.add_argument("--db", default=None)
    parser.add_argument("--artifacts", default=None)
    args = parser.parse_args()
    if args.worker:
        import torch

        torch.set_num_threads(1)
        result = (worker_fit if args.worker == "fit" else worker_generate)(args)
        result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(result))
        return
    work = Path(args.workdir or tempfile.mkdtemp(prefix="bench_sampled_"))
    args.db, args.artifacts = str(work / "big.duckdb"), str(work / "artifacts")
    build_s = build(Path(args.db), args.facts, args.customers, args.products)
    fit = _run("fit", args)
    generate = _run("generate", args)
    print(json.dumps({
        "command": " ".join(["python", "benchmarks/bench_sampled_fit.py", *sys.argv[1:]]),
        "sizes": {"sales": args.facts, "customers": args.customers, "products": args.products},
        "sample_rows": args.sample_rows, "build_s": build_s, "fit": fit, "generate": generate,
        "workdir": str(work),
    }, indent=1))  # fmt: skip


if __name__ == "__main__":
    main()
