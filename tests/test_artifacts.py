"""Artifacts: JSON + npz on disk, versioned, numbers only."""

from __future__ import annotations

import json

import numpy as np
import pytest

from synthohive_dbt.errors import ArtifactError, ModelError
from synthohive_dbt.synth.artifacts import (
    FORMAT_VERSION,
    MODEL_JSON,
    TENSORS,
    read_artifact,
    write_artifact,
)


def test_write_then_read_returns_the_same_meta_and_tensors(tmp_path):
    meta = {"columns": ["a", "b"], "nested": {"k": [1, 2.5, None, True]}}
    tensors = {"corr": np.eye(3), "codes": np.arange(4, dtype=np.int64), "empty": np.zeros((0, 7))}
    write_artifact(tmp_path / "orders", "copula", meta, tensors)
    name, meta2, tensors2 = read_artifact(tmp_path / "orders")
    assert name == "copula"
    assert meta2 == meta
    assert set(tensors2) == set(tensors)
    for key, value in tensors.items():
        assert tensors2[key].dtype == value.dtype
        np.testing.assert_array_equal(tensors2[key], value)


def test_model_json_records_format_and_versions(tmp_path):
    write_artifact(tmp_path, "copula", {}, {})
    doc = json.loads((tmp_path / MODEL_JSON).read_text())
    assert doc["format_version"] == FORMAT_VERSION
    assert doc["model"] == "copula"
    assert {"synthohive_dbt", "numpy", "python"} <= set(doc["versions"])


def test_numpy_scalars_in_meta_are_written_as_json_numbers(tmp_path):
    write_artifact(tmp_path, "copula", {"rows": np.int64(3), "rate": np.float64(0.5)}, {})
    _, meta, _ = read_artifact(tmp_path)
    assert meta == {"rows": 3, "rate": 0.5}


def test_format_version_mismatch_is_an_artifact_error(tmp_path):
    write_artifact(tmp_path, "copula", {}, {"x": np.ones(2)})
    doc = json.loads((tmp_path / MODEL_JSON).read_text())
    doc["format_version"] = FORMAT_VERSION + 1
    (tmp_path / MODEL_JSON).write_text(json.dumps(doc))
    with pytest.raises(ArtifactError, match="format_version 2.*refit"):
        read_artifact(tmp_path)


def test_object_arrays_are_refused(tmp_path):
    with pytest.raises(ArtifactError, match="'names' has dtype object"):
        write_artifact(tmp_path, "copula", {}, {"names": np.array(["a", None], dtype=object)})


def test_missing_artifact_is_an_artifact_error(tmp_path):
    with pytest.raises(ArtifactError, match="no model artifact.*synthohive fit"):
        read_artifact(tmp_path / "nowhere")


def test_corrupt_json_is_an_artifact_error(tmp_path):
    (tmp_path / MODEL_JSON).write_text("{not json")
    with pytest.raises(ArtifactError, match="not valid JSON"):
        read_artifact(tmp_path)


def test_artifact_errors_are_model_errors():
    assert issubclass(ArtifactError, ModelError)


def test_tensors_never_unpickle(tmp_path):
    write_artifact(tmp_path, "copula", {}, {"x": np.ones(2)})
    # replace the npz with one holding a pickled object array: reading must refuse it
    # (numpy's ValueError today; an ArtifactError once read_artifact wraps load errors)
    np.savez(tmp_path / TENSORS, x=np.array([{"evil": 1}], dtype=object))
    with pytest.raises((ArtifactError, ValueError), match="(?i)pickle"):
        read_artifact(tmp_path)
