"""Rare-value protection, the public and copy opt-outs, the holdout and the privacy checks."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from helpers import FLOAT, INT, TEXT

from synthohive_dbt.errors import PrivacyError
from synthohive_dbt.privacy.check import check_graph
from synthohive_dbt.privacy.holdout import holdout_mask
from synthohive_dbt.privacy.settings import PrivacySettings
from synthohive_dbt.relational.features import learn_encoder
from synthohive_dbt.schema import Column, ForeignKey, Origin, PrimaryKey, SchemaGraph, Table
from synthohive_dbt.synth.codec_fit import fit_codec
from synthohive_dbt.synth.copy import CopyModel


def test_rare_categories_are_never_stored_nor_decoded():
    rng = np.random.default_rng(0)
    numbers = rng.choice(10**6, 300, replace=False)
    titles = [f"Title number {i:06d} of a long list" for i in numbers]  # each seen once
    values = pd.Series(["Manager"] * 40 + ["Analyst"] * 20 + ["Intern"] * 4 + titles)
    codec = fit_codec(values, Column("title", type=TEXT))
    stored = json.dumps(codec.to_json())
    assert set(codec.categories) == {"Manager", "Analyst", "__synthohive_other__"}
    assert "Intern" not in stored and not any(t in stored for t in titles)
    decoded = codec.decode(np.full(2_000, codec.other_index), rng)
    assert not set(decoded) & (set(titles) | {"Intern"})
    # new values keep the shape the rare titles share: words and a number
    assert decoded.str.fullmatch(r"Title number \d{6} of a long list").all()


def test_min_rows_is_the_threshold():
    values = pd.Series(["a"] * 5 + ["b"] * 4 + ["c"] * 30)
    assert "b" not in fit_codec(values, Column("x", type=TEXT), 5).categories
    assert "b" in fit_codec(values, Column("x", type=TEXT), 4).categories
    assert "a" in fit_codec(values, Column("x", type=TEXT), 5).categories


def test_public_columns_and_declared_values_keep_rare_values():
    values = pd.Series(["Germany"] * 30 + ["Liechtenstein"])
    public = Column("country", type=TEXT, meta={"synthohive_privacy": "public"})
    assert "Liechtenstein" in fit_codec(values, public).categories
    declared = Column("country", type=TEXT, accepted_values=("Germany", "Liechtenstein"))
    assert "Liechtenstein" in fit_codec(values, declared).categories
    assert "Liechtenstein" not in fit_codec(values, Column("country", type=TEXT)).categories


def test_continuous_range_is_clipped_to_the_kth_values_unless_a_range_is_declared():
    values = pd.Series(np.r_[np.arange(100.0), 10_000.0])  # one outlier: a single person
    codec = fit_codec(values, Column("income", type=FLOAT))
    assert (codec.minimum, codec.maximum) == (4.0, 96.0)
    out = codec.decode(np.array([-50.0, 50.0, 20_000.0]), np.random.default_rng(0))
    assert out.tolist() == [4.0, 50.0, 96.0]
    declared = Column("income", type=FLOAT, accepted_range=(0.0, 20_000.0))
    codec = fit_codec(values, declared)
    assert (codec.minimum, codec.maximum) == (0.0, 10_000.0)


def test_rare_numbers_decode_within_the_protected_range():
    values = pd.Series([1] * 30 + [2] * 30 + [3] * 30 + [999])
    codec = fit_codec(values, Column("n", type=INT))
    assert 999 not in codec.categories and "999" not in json.dumps(codec.to_json())
    decoded = codec.decode(np.full(500, codec.other_index), np.random.default_rng(1))
    assert decoded.between(1, 3).all()


def test_parent_features_one_hot_only_values_k_rows_share():
    frame = pd.DataFrame({"region": ["north"] * 10 + ["south"] * 10 + ["tiny"] * 2})
    encoder = learn_encoder(frame, ["region"], min_rows=5)
    assert set(encoder.features[0].categories) == {"north", "south"}


def test_holdout_depends_on_values_and_seed_not_on_row_order():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.normal(size=1_000), "b": rng.integers(0, 9, 1_000)})
    settings = PrivacySettings(holdout_share=0.1, holdout_max_rows=50)
    mask = holdout_mask(frame, 7, settings)
    assert mask.sum() == 50
    shuffled = frame.sample(frac=1.0, random_state=3)
    again = holdout_mask(shuffled.reset_index(drop=True), 7, settings)
    held = frame[mask].sort_values("a").reset_index(drop=True)
    pd.testing.assert_frame_equal(
        held, shuffled.reset_index(drop=True)[again].sort_values("a").reset_index(drop=True)
    )
    assert not (holdout_mask(frame, 8, settings) == mask).all()
    assert holdout_mask(frame.head(5), 7, settings).sum() == 0  # nothing to spare


def test_privacy_settings_list_every_problem():
    settings, problems = PrivacySettings.parse(
        {"privacy": {"min_category_rows": 0, "holdout_share": 0.9, "nope": 1}}
    )
    assert settings == PrivacySettings()
    assert len(problems) == 3
    assert any("min_category_rows is 0" in p for p in problems)
    with pytest.raises(PrivacyError, match="min_category_rows"):
        PrivacySettings.from_vars({"privacy": {"min_category_rows": 0}})
    assert PrivacySettings.from_vars({"privacy": {"min_category_rows": 10}}).min_category_rows == 10


def _graph(customer_meta=None, key_meta=None, order_meta=None, email_meta=None) -> SchemaGraph:
    origin = Origin("test", "t")
    customers = Table(
        "c",
        "customers",
        "source",
        None,
        "raw",
        "customers",
        columns=(
            Column("id", type=INT, unique=True, not_null=True, meta=key_meta or {}),
            Column("email", type=TEXT, meta=email_meta or {}),
        ),
        primary_key=PrimaryKey(("id",), origin),
        meta=customer_meta or {},
    )
    orders = Table(
        "o",
        "orders",
        "source",
        None,
        "raw",
        "orders",
        columns=(Column("id", type=INT), Column("customer_id", type=INT)),
        primary_key=PrimaryKey(("id",), origin),
        meta=order_meta or {},
    )
    fk = ForeignKey("o", ("customer_id",), "c", ("id",), origin)
    return SchemaGraph({"c": customers, "o": orders}, (fk,), ("c", "o"))


def test_privacy_checks_list_every_problem_at_once():
    graph = _graph(
        key_meta={"synthohive_pii": "fake"},
        order_meta={"synthohive_mode": "copy"},
        email_meta={"synthohive_pii": "hash", "synthohive_pii_kind": "mail"},
    )
    problems = check_graph(graph, env={})
    text = "\n".join(problems)
    assert len(problems) == 4, text
    assert "key column" in text and "minted" in text
    assert "synthohive_mode: copy" in text and "orphans" in text
    assert "SYNTHOHIVE_HMAC_KEY" in text
    assert "'mail' is not a kind" in text
    assert check_graph(_graph(email_meta={"synthohive_pii": "sometimes"}), env={}) == [
        "ref('customers') column email: config.meta synthohive_pii: 'sometimes' is "
        "not a treatment; use fake, mask, hash, drop, keep, true or false"
    ]


def test_hash_with_a_key_and_copies_of_copies_are_fine():
    graph = _graph(
        customer_meta={"synthohive_mode": "copy"},
        order_meta={"synthohive_mode": "copy"},
        email_meta={"synthohive_pii": "hash"},
    )
    assert check_graph(graph, env={"SYNTHOHIVE_HMAC_KEY": "k" * 32}) == []


def test_copy_model_returns_the_rows_as_they_are_through_its_artifact():
    frame = pd.DataFrame(
        {
            "code": ["US", "DE"],
            "opened": pd.to_datetime(["2020-01-01", "2021-06-30"]),
            "rate": [0.5, None],
        }
    )
    model = CopyModel()
    model.fit(frame, [Column(c) for c in frame.columns], rng=np.random.default_rng(0))
    meta, tensors = model.state()
    back = CopyModel.from_state(json.loads(json.dumps(meta)), tensors)
    pd.testing.assert_frame_equal(back.sample(99, rng=np.random.default_rng(1)), frame)


def test_unique_personal_columns_stay_unique_across_chunks():
    from synthohive_dbt.privacy.fake import FakeSpec
    from synthohive_dbt.privacy.personal import PersonalColumn, fill

    spec = FakeSpec(kind="national_id", unique=True, formats=(("###-##-###\\0", 1.0),))
    col = PersonalColumn("ssn", "national_id", "fake", ("test",), spec=spec)
    rng, seen = np.random.default_rng(0), {}
    chunks = []
    for _ in range(4):  # 4 chunks of 2,000 from a space of 100,000
        out = pd.DataFrame(index=range(2_000))
        fill([col], out, {}, rng, None, seen)
        chunks.append(out["ssn"])
    values = pd.concat(chunks)
    assert values.is_unique and len(values) == 8_000
    assert values.str.fullmatch(r"\d{3}-\d{2}-\d{3}0").all()


def test_privacy_meta_on_a_table_is_no_model_option_and_public_keeps_rare_values():
    """``synthohive_privacy``/``synthohive_locale``/``synthohive_mode`` configure synthohive,
    not CTGAN (whose options refuse unknown names); a public table keeps rare values."""
    from synthohive_dbt.relational import fit_relational
    from synthohive_dbt.synth.base import ModelOptions

    meta = {"synthohive_privacy": "public", "synthohive_locale": "de_DE"}
    table = Table(
        "s.t", "things", "source", None, "raw", "things",
        columns=(Column("id", type=INT, unique=True, not_null=True), Column("kind", type=TEXT)),
        primary_key=PrimaryKey(("id",), Origin("test", "t")), meta=meta,
    )  # fmt: skip
    graph = SchemaGraph({"s.t": table}, (), ("s.t",))
    frame = pd.DataFrame({"id": range(60), "kind": ["common"] * 59 + ["Rare Thing"]})
    model = fit_relational(
        graph, {"s.t": frame}, model="ctgan", options=ModelOptions(epochs=1, batch_size=20)
    )
    meta_json, _ = model.models["s.t"].state()
    assert "Rare Thing" in json.dumps(meta_json)  # public: kept as it is
