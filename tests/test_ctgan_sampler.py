"""Training-by-sampling: condition frequencies and matching rows, vectorised."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from synthohive_dbt.schema import Column
from synthohive_dbt.synth.codec_fit import fit_codecs
from synthohive_dbt.synth.ctgan.sampler import ConditionSampler
from synthohive_dbt.synth.ctgan.transformer import DataTransformer

CPU = torch.device("cpu")


def setup(frame: pd.DataFrame, not_null=None):
    codecs = fit_codecs(frame, [Column(c) for c in frame.columns])
    values = [c.encode(frame[c.name]) for c in codecs]
    rng = np.random.default_rng(0)
    flags = not_null or [False] * len(codecs)
    tr = DataTransformer.fit(values, codecs, flags, rng)
    return tr, tr.transform(values, rng)


def test_training_conditions_follow_log_frequency_and_match_their_rows():
    n = 10_000
    rng = np.random.default_rng(1)
    frame = pd.DataFrame(
        {
            "c": rng.choice(["a", "b", "c"], n, p=[0.9, 0.09, 0.01]),
            "d": rng.choice(["x", "y"], n, p=[0.5, 0.5]),
            "v": rng.normal(size=n),
        }
    )
    tr, rows = setup(frame)
    sampler = ConditionSampler(tr, rows.slots, CPU)
    g = torch.Generator().manual_seed(0)
    gid, picked = sampler.sample_train(200_000, g)
    spans = {c.name: c for c in tr.discrete_spans}
    c_span = spans["c"]
    start = c_span.offset - tr.cond_start
    in_c = (gid >= start) & (gid < start + c_span.width)
    assert abs(in_c.float().mean().item() - 0.5) < 0.01  # columns uniformly
    counts = np.array(c_span.counts, dtype=float)
    expected = np.log(counts + 1) / np.log(counts + 1).sum()
    observed = np.bincount((gid[in_c] - start).numpy(), minlength=3) / in_c.sum().item()
    assert np.allclose(observed, expected, atol=0.01)
    # every picked row holds the category of its condition
    slot_of_row = rows.slots[picked[in_c].numpy(), c_span.span]
    assert np.array_equal(slot_of_row, (gid[in_c] - start).numpy())


def test_generation_conditions_follow_plain_frequency_and_skip_masked_nulls():
    n = 5000
    rng = np.random.default_rng(2)
    values = rng.choice(["a", "b", None], n, p=[0.6, 0.3, 0.1])
    frame = pd.DataFrame({"c": values})
    tr, rows = setup(frame, not_null=[True])
    assert tr.masked_slots().tolist() == [tr.layouts[0].offset + 2]
    sampler = ConditionSampler(tr, None, CPU)
    gid = sampler.sample_generate(100_000, torch.Generator().manual_seed(0))
    freq = np.bincount(gid.numpy(), minlength=3) / len(gid)
    assert freq[2] == 0  # the null slot of a not_null column is never asked for
    assert np.allclose(freq[:2], [0.6 / 0.9, 0.3 / 0.9], atol=0.01)


def test_no_discrete_columns_means_no_condition():
    frame = pd.DataFrame({"v": np.random.default_rng(0).normal(size=100)})
    tr, rows = setup(frame)
    sampler = ConditionSampler(tr, rows.slots, CPU)
    g = torch.Generator().manual_seed(0)
    assert sampler.cond_dim == 0
    assert sampler.sample_train(10, g) is None and sampler.sample_generate(10, g) is None
    assert sampler.uniform_rows(10, g).max() < 100
