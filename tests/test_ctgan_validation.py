"""Validation scores: marginal similarity, and similarity within groups of contexts."""

from __future__ import annotations

import numpy as np

from synthohive_dbt.synth.ctgan.transformer import CATEGORIES, MODES, ColumnLayout
from synthohive_dbt.synth.ctgan.validation import (
    conditional_similarity,
    context_groups,
    similarity,
)


def _layouts():
    return [ColumnLayout("value", MODES, width=3), ColumnLayout("kind", CATEGORIES, width=2)]


def test_groups_follow_the_main_direction_of_the_context():
    rng = np.random.default_rng(0)
    ctx = np.column_stack([rng.normal(size=1000) * 10, rng.normal(size=1000) * 0.1])
    groups = context_groups(ctx)
    assert len(groups) == 4 and sorted(np.concatenate(groups).tolist()) == list(range(1000))
    means = [ctx[g, 0].mean() for g in groups]
    assert means == sorted(means) or means == sorted(means, reverse=True)
    assert context_groups(None) is None
    assert context_groups(np.ones((1000, 2))) is None  # constant: nothing to condition on
    assert context_groups(ctx[:40]) is None  # too few rows for two groups
    assert len(context_groups(ctx[:60])) == 2


def test_a_model_that_ignores_its_context_scores_lower_within_groups():
    rng = np.random.default_rng(1)
    n = 2000
    ctx = rng.integers(0, 2, n).astype(np.float32)[:, None]
    real = [ctx[:, 0] * 50 + rng.normal(size=n), ctx[:, 0].astype(np.int64)]
    conditioned = [ctx[:, 0] * 50 + rng.normal(size=n), ctx[:, 0].astype(np.int64)]
    shuffled = rng.permutation(n)  # right marginals, no relation to the row's context
    ignoring = [conditioned[0][shuffled], conditioned[1][shuffled]]
    layouts, groups = _layouts(), context_groups(ctx)
    # the marginal score cannot tell them apart ...
    assert abs(similarity(real, conditioned, layouts) - similarity(real, ignoring, layouts)) < 0.05
    # ... the conditional one can
    good = conditional_similarity(real, conditioned, layouts, groups)
    bad = conditional_similarity(real, ignoring, layouts, groups)
    assert good > 0.9 and bad < 0.7
