"""Matrix-product precision: option, dtype choice, bfloat16 inference and training, the
sampling of slots (masks, far-below spans) and the dither of bfloat16 alphas."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from helpers import columns_of, fit_ctgan, mixed_frame

from synthohive_dbt.errors import ModelError
from synthohive_dbt.synth.base import ModelOptions
from synthohive_dbt.synth.ctgan import networks
from synthohive_dbt.synth.ctgan.options import CTGANConfig
from synthohive_dbt.synth.ctgan.train import generation_mask
from synthohive_dbt.synth.precision import compute_dtype, native_bfloat16

CPU = torch.device("cpu")
pytestmark = pytest.mark.usefixtures("one_thread")


def test_precision_option_is_validated_and_defaults_to_auto():
    assert CTGANConfig.from_options(ModelOptions()).precision == "auto"
    assert CTGANConfig.from_options(ModelOptions(extra={"precision": "float32"})).precision == (
        "float32"
    )
    with pytest.raises(ModelError) as err:
        CTGANConfig.from_options(ModelOptions(extra={"precision": "fp8", "pac": 0}))
    text = str(err.value) + " ".join(getattr(err.value, "problems", []))
    assert "precision must be one of auto, float32, bfloat16, got 'fp8'" in text
    assert "pac must be a positive integer" in text  # every problem at once


def test_compute_dtype_follows_the_hardware_for_auto():
    assert compute_dtype("float32", CPU) == torch.float32
    assert compute_dtype("bfloat16", CPU) == torch.bfloat16
    native = bool(torch.cpu._is_amx_tile_supported() or torch.cpu._is_avx512_bf16_supported())
    assert native_bfloat16(CPU) == native
    assert compute_dtype("auto", CPU) == (torch.bfloat16 if native else torch.float32)


def test_auto_is_float32_on_a_cpu_without_bfloat16_units(monkeypatch):
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: False)
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: False)
    assert not native_bfloat16(CPU)
    assert compute_dtype("auto", CPU) == torch.float32
    assert compute_dtype("bfloat16", CPU) == torch.bfloat16  # asked for: emulated, slower
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: True)
    assert compute_dtype("auto", CPU) == torch.bfloat16


def _trained_generator(seed: int = 0) -> networks.Generator:
    """A generator with non-trivial batch-norm statistics (a few training-mode passes)."""
    g = torch.Generator().manual_seed(seed)
    gen = networks.materialise(networks.Generator(24, 7, (32, 32), 45), CPU, g)
    with torch.no_grad():
        for _ in range(5):
            gen(torch.randn(64, 24, generator=g) * 2 + 1, torch.randint(0, 7, (64,), generator=g))
    return gen.eval()


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_folded_inference_matches_the_module(dtype):
    """Also: a generation mask folded into the output bias makes those outputs -inf."""
    gen = _trained_generator()
    g = torch.Generator().manual_seed(1)
    dense, gid = torch.randn(200, 24, generator=g), torch.randint(0, 7, (200,), generator=g)
    with torch.inference_mode():
        expected = gen(dense, gid)
        got = networks.Generator.infer(gen.folded(dtype), dense, gid)
    assert got.dtype == torch.float32 and got.shape == expected.shape == (200, 45)
    mask = torch.zeros(45)
    mask[[3, 40]] = float("-inf")
    with torch.inference_mode():
        masked = networks.Generator.infer(gen.folded(dtype, mask), dense, gid)
    assert torch.isneginf(masked[:, [3, 40]]).all()
    keep = torch.ones(45, dtype=torch.bool)
    keep[[3, 40]] = False
    assert torch.equal(masked[:, keep], got[:, keep])
    if dtype == torch.float32:
        torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)
    else:  # bfloat16 products: about 3 significant digits per layer
        err = (got - expected).abs().max() / expected.abs().max()
        assert 0 < err < 0.03


def test_dither_stays_inside_the_rounding_interval_and_fills_it():
    g = torch.Generator().manual_seed(0)
    x = (torch.randn(20_000, generator=g) * 3).to(torch.bfloat16).float()
    x[:50] = 0.0
    d = networks.dither(x, 7, g)
    _, e = torch.frexp(x)
    half_ulp = torch.ldexp(torch.ones_like(x), e - 9)
    nz = x != 0
    assert (d[~nz] == 0).all()
    assert (d[nz].abs() <= half_ulp[nz]).all()
    # uniform over the interval: about a quarter of the values beyond half of it
    share = ((d[nz].abs() / half_ulp[nz]) > 0.5).float().mean().item()
    assert 0.45 < share < 0.55
    # dithered values no longer sit on the bfloat16 lattice
    assert (x + d)[nz].unique().numel() > 0.95 * nz.sum().item()


class _Spans:
    """The attributes of DataTransformer that draw_slots reads: two alphas, then a
    3-wide span, two 4-wide spans (one group) and a 2-wide span."""

    n_alpha = 2
    width = 2 + 3 + 8 + 2
    groups: tuple = ()


def _group(start, count, width):
    from synthohive_dbt.synth.ctgan.transformer import SpanGroup

    return SpanGroup(start, count, width, True)


def test_draw_slots_matches_the_softmax_respects_masks_and_far_below_spans():
    spans = _Spans()
    spans.groups = (_group(2, 1, 3), _group(5, 2, 4), _group(13, 1, 2))
    n = 40_000
    raw = torch.zeros(n, spans.width)
    raw[:, 2:5] = torch.tensor([1.0, 0.0, float("-inf")])  # a masked slot
    raw[:, 5:9] = torch.tensor([0.0, 1.0, 2.0, 3.0])
    raw[:, 9:13] = torch.tensor([30.0, 30.0, 29.0, 31.0])
    raw[:, 13:15] = torch.tensor([-200.0, -199.0])  # 230 below the row's largest logit
    g = torch.Generator().manual_seed(3)
    alphas, slots = networks.draw_slots(raw, spans, g)
    assert alphas.shape == (n, 2) and slots.shape == (n, 4)

    def freq(col, k):
        return np.bincount(slots[:, col].numpy(), minlength=k) / n

    def softmax(v):
        v = np.exp(np.array(v) - max(v))
        return v / v.sum()

    assert freq(0, 3)[2] == 0  # masked
    np.testing.assert_allclose(freq(0, 3)[:2], softmax([1.0, 0.0]), atol=0.01)
    np.testing.assert_allclose(freq(1, 4), softmax([0.0, 1.0, 2.0, 3.0]), atol=0.01)
    np.testing.assert_allclose(freq(2, 4), softmax([30.0, 30.0, 29.0, 31.0]), atol=0.01)
    np.testing.assert_allclose(freq(3, 2), softmax([-200.0, -199.0]), atol=0.01)


def test_generation_mask_keeps_not_null_columns_free_of_nulls_in_bfloat16():
    frame = mixed_frame(400)
    model = fit_ctgan(
        frame, columns_of(frame, score={"not_null": True}), epochs=1, precision="bfloat16"
    )
    out = model.sample(2_000, rng=np.random.default_rng(0))
    assert out["score"].notna().all()
    mask = generation_mask(model._transformer, CPU)
    assert torch.isinf(mask).any()


def test_bfloat16_training_learns_the_table_like_float32():
    frame = mixed_frame(1_500, seed=4)
    results = {}
    for precision in ("float32", "bfloat16"):
        model = fit_ctgan(frame, epochs=30, batch_size=100, precision=precision, seed=2)
        out = model.sample(3_000, rng=np.random.default_rng(1))
        status = out["status"].value_counts(normalize=True)
        real = frame["status"].value_counts(normalize=True)
        results[precision] = {
            "status_tvd": 0.5 * (status.reindex(real.index, fill_value=0) - real).abs().sum(),
            "amount_modes": (
                ((out["amount"] > 7.5).mean()),
                out.loc[out["amount"] > 7.5, "amount"].median(),
            ),
            "distinct_amounts": out["amount"].nunique(),
        }
    print(results)
    for precision, r in results.items():
        assert r["status_tvd"] < 0.25, (precision, r)
        high_share, high_median = r["amount_modes"]
        assert 0.4 < high_share < 0.85 and 16 < high_median < 24, (precision, r)
        # continuous values are not on an 8-bit lattice (the dither), nearly all distinct
        assert r["distinct_amounts"] > 0.9 * 3_000, (precision, r)
    assert results["bfloat16"]["status_tvd"] < results["float32"]["status_tvd"] + 0.05
