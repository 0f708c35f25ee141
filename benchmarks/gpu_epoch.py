"""Time one training epoch on 1,000,000 rows on CUDA: this engine and the reference ctgan.

Meant for a machine with a GPU and no network: the table is generated here (numeric
mixtures, skewed and correlated categoricals), so only torch, numpy, pandas (plus scipy,
which ctgan pulls in) and, for the reference side, ``ctgan`` are needed:

    PYTHONPATH=. python benchmarks/gpu_epoch.py --rows 1000000 --batch-size 500

Prints one JSON object. Both sides use the same batch size, epochs (1) and network sizes
(the CTGAN defaults). The reference fits its per-column Bayesian mixtures on a 50,000-row
subsample (a full fit on a million rows takes many minutes of CPU before any GPU work;
its transform still runs on every row); preprocessing is reported apart from the epoch.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np
import pandas as pd


def make_table(rows: int, seed: int = 0) -> tuple[pd.DataFrame, list[str]]:
    """A flights-like table: 6 numeric columns, 3 categorical (3, 16 and 100 levels)."""
    rng = np.random.default_rng(seed)
    carrier = rng.choice(16, rows, p=np.sort(rng.dirichlet(np.ones(16)))[::-1])
    origin = rng.choice(3, rows, p=[0.4, 0.35, 0.25])
    dest = (carrier * 7 + rng.zipf(1.6, rows)) % 100
    distance = 200 + dest * 25 + rng.normal(0, 30, rows)
    delay = np.where(rng.random(rows) < 0.7, rng.normal(-5, 5, rows), rng.exponential(40, rows))
    frame = pd.DataFrame(
        {
            "month": rng.integers(1, 13, rows),
            "dep_time": np.clip(rng.normal(1300, 450, rows), 1, 2400).round().astype(np.int64),
            "dep_delay": delay.round().astype(np.int64),
            "arr_delay": (delay + rng.normal(-5, 10, rows)).round().astype(np.int64),
            "air_time": (distance / 7.5 + rng.normal(0, 8, rows)).round().astype(np.int64),
            "distance": distance.round().astype(np.int64),
            "carrier": np.array([f"C{i:02d}" for i in range(16)], dtype=object)[carrier],
            "origin": np.array(["EWR", "JFK", "LGA"], dtype=object)[origin],
            "dest": np.array([f"D{i:03d}" for i in range(100)], dtype=object)[dest],
        }
    )
    return frame, ["month", "carrier", "origin", "dest"]


def time_ours(frame: pd.DataFrame, args) -> dict:
    import torch

    from synthohive_dbt.progress import EpochEnded, EventLog, Reporter, TrainingDone
    from synthohive_dbt.schema import Column
    from synthohive_dbt.synth.base import ModelOptions
    from synthohive_dbt.synth.ctgan import CTGANModel
    from synthohive_dbt.synth.precision import compute_dtype

    log = EventLog()
    extra = {"precision": args.precision}
    options = ModelOptions(epochs=1, batch_size=args.batch_size, device=args.device, extra=extra)
    model = CTGANModel(options)
    t0 = time.perf_counter()
    model.fit(frame, [Column(c) for c in frame.columns], rng=np.random.default_rng(0),
              reporter=Reporter(log))  # fmt: skip
    fit_s = time.perf_counter() - t0
    epoch = log.of(EpochEnded)[0]
    (done,) = log.of(TrainingDone)
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    model.sample(args.sample_rows, rng=np.random.default_rng(1))
    sample_s = time.perf_counter() - t0
    return {
        "preprocessing_s": fit_s - done.seconds,
        "epoch_s": done.seconds,
        "epoch_s_without_validation": epoch.seconds,
        "steps": epoch.steps,
        "sampling_rows_per_s": args.sample_rows / sample_s,
        "peak_gpu_mb": torch.cuda.max_memory_allocated() / 2**20,
        "matmul_dtype": str(compute_dtype(args.precision, torch.device(args.device))),
    }


def time_reference(frame: pd.DataFrame, discrete: list[str], args) -> dict:
    import torch

    try:
        from ctgan import CTGAN
        from ctgan import data_sampler as ds_mod
        from ctgan.synthesizers import ctgan as ctgan_mod
    except ImportError as exc:
        return {"skipped": f"ctgan is not importable: {exc}"}
    prep = {"s": 0.0}
    transformer_fit = ctgan_mod.DataTransformer.fit

    def fit_on_subsample(self, raw, discrete_columns=()):
        sub = raw.sample(n=min(len(raw), 50_000), random_state=0)
        return transformer_fit(self, sub, discrete_columns)

    ctgan_mod.DataTransformer.fit = fit_on_subsample
    for cls, name in ((ctgan_mod.DataTransformer, "fit"),
                      (ctgan_mod.DataTransformer, "transform"),
                      (ds_mod.DataSampler, "__init__")):  # fmt: skip
        _timed(cls, name, prep)
    torch.cuda.reset_peak_memory_stats()
    model = CTGAN(epochs=1, batch_size=args.batch_size, enable_gpu=args.device != "cpu")
    model.set_random_state(0)
    t0 = time.perf_counter()
    model.fit(frame, discrete)
    torch.cuda.synchronize()
    fit_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    model.sample(args.sample_rows)
    sample_s = time.perf_counter() - t0
    return {
        "preprocessing_s": prep["s"],
        "epoch_s": fit_s - prep["s"],
        "steps": max(len(frame) // args.batch_size, 1),
        "sampling_rows_per_s": args.sample_rows / sample_s,
        "peak_gpu_mb": torch.cuda.max_memory_allocated() / 2**20,
    }


def _timed(cls, name: str, total: dict) -> None:
    original = getattr(cls, name)

    def timed(*a, **k):
        t0 = time.perf_counter()
        try:
            return original(*a, **k)
        finally:
            total["s"] += time.perf_counter() - t0

    setattr(cls, name, timed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--sample-rows", type=int, default=200_000)
    parser.add_argument("--side", choices=["both", "ours", "reference"], default="both")
    parser.add_argument("--device", default="cuda", help="cpu: a dry run of this script")
    parser.add_argument(
        "--precision", default="auto", choices=["auto", "float32", "bfloat16"],
        help="our engine's matrix products (auto: bfloat16 on GPUs that support it)",
    )  # fmt: skip
    args = parser.parse_args()
    import torch

    if args.device == "cpu":  # exercise the script without a GPU (small --rows)
        torch.cuda.synchronize = lambda: None
        torch.cuda.max_memory_allocated = lambda: 0
        torch.cuda.reset_peak_memory_stats = lambda: None
        torch.cuda.get_device_name = lambda _: "cpu (dry run)"
    elif not torch.cuda.is_available():
        sys.exit("gpu_epoch.py needs CUDA: torch.cuda.is_available() is False on this machine")
    frame, discrete = make_table(args.rows)
    result = {
        "device": torch.cuda.get_device_name(0),
        "torch": torch.__version__,
        "rows": args.rows,
        "batch_size": args.batch_size,
        "cpu_threads": torch.get_num_threads(),
    }
    if args.side in ("both", "ours"):
        result["ours"] = time_ours(frame, args)
    if args.side in ("both", "reference"):
        result["reference"] = time_reference(frame, discrete, args)
    ours, ref = result.get("ours"), result.get("reference")
    if ours and ref and "skipped" not in ref:
        result["ratios"] = {
            "epoch_speedup": ref["epoch_s"] / ours["epoch_s"],
            "sampling_speedup": ours["sampling_rows_per_s"] / ref["sampling_rows_per_s"],
        }
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
