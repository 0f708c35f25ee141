"""Peak memory while generating millions of child rows straight into DuckDB.

Fits the copula on a small customers/orders schema (real-looking data made here), then
generates it at ``--scale`` (default 50: 500,000 customers, about 5,000,000 orders),
streaming chunks into a DuckDB file. Prints JSON: rows written, seconds, peak RSS.

    python benchmarks/bench_stream_memory.py --scale 50
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd


def schema_and_data(rng: np.random.Generator, customers: int = 10_000):
    from synthohive_dbt.schema import (
        Column,
        ColumnType,
        ForeignKey,
        LogicalType,
        Origin,
        PrimaryKey,
        SchemaGraph,
        Table,
    )

    integer = ColumnType(LogicalType.INTEGER, "BIGINT")
    text = ColumnType(LogicalType.TEXT, "VARCHAR")
    double = ColumnType(LogicalType.FLOAT, "DOUBLE")
    stamp = ColumnType(LogicalType.TIMESTAMP, "TIMESTAMP")
    origin = Origin("benchmark", "bench_stream_memory")

    def table(name, cols, pk):
        return Table(
            f"source.bench.raw.{name}",
            name,
            "source",
            None,
            "raw",
            name,
            columns=tuple(Column(n, type=t) for n, t in cols),
            primary_key=PrimaryKey(pk, origin),
        )

    cust = table("customers", [("id", integer), ("segment", text), ("age", double)], ("id",))
    orders = table(
        "orders",
        [
            ("order_id", integer),
            ("customer_id", integer),
            ("amount", double),
            ("status", text),
            ("ordered_at", stamp),
        ],
        ("order_id",),
    )
    fk = ForeignKey(orders.key, ("customer_id",), cust.key, ("id",), origin, nullable=False)
    graph = SchemaGraph({cust.key: cust, orders.key: orders}, (fk,), (cust.key, orders.key))
    segment = rng.choice(["a", "b", "c"], size=customers, p=[0.5, 0.3, 0.2])
    customers_df = pd.DataFrame(
        {
            "id": pd.array(np.arange(1, customers + 1), dtype="Int64"),
            "segment": pd.array(segment, dtype="string"),
            "age": rng.normal(40, 12, customers),
        }
    )
    per = rng.poisson(np.where(segment == "a", 5, 18))
    n = int(per.sum())
    orders_df = pd.DataFrame(
        {
            "order_id": pd.array(np.arange(1, n + 1), dtype="Int64"),
            "customer_id": pd.array(np.repeat(customers_df["id"].to_numpy(), per), dtype="Int64"),
            "amount": rng.gamma(2.0, 30.0, n),
            "status": pd.array(rng.choice(["placed", "shipped", "returned"], n), dtype="string"),
            "ordered_at": pd.Timestamp("2024-01-01")
            + pd.to_timedelta(rng.integers(0, 365 * 86_400, n), unit="s"),
        }
    )
    return graph, {cust.key: customers_df, orders.key: orders_df}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=50.0)
    parser.add_argument("--chunk-rows", type=int, default=200_000)
    parser.add_argument("--model", default="copula")
    args = parser.parse_args(argv)

    import duckdb
    import torch

    from synthohive_dbt.generation import write_synthetic
    from synthohive_dbt.options import GenerateOptions
    from synthohive_dbt.relational import fit_relational
    from synthohive_dbt.warehouse import wrap_connection

    torch.set_num_threads(1)
    graph, frames = schema_and_data(np.random.default_rng(0))
    start = time.perf_counter()
    model = fit_relational(graph, frames, model=args.model, seed=0)
    fit_s = time.perf_counter() - start
    del frames
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.duckdb"
        con = duckdb.connect(str(path))
        wh = wrap_connection("duckdb", con)
        start = time.perf_counter()
        written = write_synthetic(
            model,
            wh,
            schema="synthohive",
            options=GenerateOptions(scale=args.scale, seed=1, chunk_rows=args.chunk_rows),
        )
        gen_s = time.perf_counter() - start
        counted = con.execute("select count(*) from synthohive.orders").fetchone()[0]
        orphans = con.execute(
            "select count(*) from synthohive.orders o left join synthohive.customers c "
            "on o.customer_id = c.id where c.id is null"
        ).fetchone()[0]
        con.close()
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                "command": "python benchmarks/bench_stream_memory.py "
                + " ".join(argv or sys.argv[1:]),
                "model": args.model,
                "scale": args.scale,
                "chunk_rows": args.chunk_rows,
                "rows_written": written,
                "orders_in_warehouse": counted,
                "orphans": orphans,
                "fit_seconds": round(fit_s, 2),
                "generate_and_write_seconds": round(gen_s, 2),
                "rows_per_second": round(sum(written.values()) / gen_s),
                "peak_rss_mib_before_generate": round(rss_before / 1024),
                "peak_rss_mib": round(peak_kib / 1024),
                "peak_rss_under_2_gib": peak_kib < 2 * 1024 * 1024,
            },
            indent=2,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
