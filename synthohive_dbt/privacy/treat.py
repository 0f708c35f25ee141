"""The treatments of personal columns other than faking: mask, hash, drop.

- mask: the same shape, random characters: digits to digits, letters to letters of the
  same case; punctuation, spaces, length and nulls kept. An e-mail keeps its domain only
  when at least k rows share it (a rare domain can name a person on its own).
- hash: an HMAC-SHA256 token of each value, keyed by ``SYNTHOHIVE_HMAC_KEY``, so the same
  value gives the same token in every table, run and machine (joins on hashed keys keep
  working) while nobody without the key can test a guess. Tokens are the first 32 hex
  characters (128 bits) of the digest.
- drop: nulls.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Mapping

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from synthohive_dbt.errors import PrivacyError
from synthohive_dbt.privacy import formats as F

HMAC_KEY_VAR = "SYNTHOHIVE_HMAC_KEY"
TOKEN_HEX_CHARS = 32
_EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


def _kept_domains(strings: np.ndarray, k: int) -> np.ndarray:
    """Per string, where its e-mail domain starts (the '@') when at least ``k`` rows share
    that domain (case-insensitively), else -1. Arrow's vectorised kernels: no Python per
    row."""
    keep_from = np.full(len(strings), -1, dtype=np.int64)
    text = pa.array(strings, type=pa.string())
    email = pc.match_substring_regex(text, _EMAIL)
    rows = np.flatnonzero(email.to_numpy(zero_copy_only=False))
    if not len(rows):
        return keep_from
    parts = pc.split_pattern(text.filter(email), "@")  # the pattern allows one '@' only
    at = pc.utf8_length(pc.list_element(parts, 0)).to_numpy(zero_copy_only=False)
    domain = pc.dictionary_encode(pc.utf8_lower(pc.list_element(parts, 1)))
    codes = domain.indices.to_numpy(zero_copy_only=False)
    common = np.bincount(codes)[codes] >= k
    keep_from[rows[common]] = at[common]
    return keep_from


def mask_values(values: pd.Series, rng: np.random.Generator, *, k: int = 5) -> pd.Series:
    """Format-preserving random replacement of each value (see module doc); an object
    Series of str with the nulls and index of ``values``."""
    present = values.notna().to_numpy()
    strings = values[present]
    if pd.api.types.infer_dtype(strings, skipna=True) != "string":
        strings = strings.astype(str)
    strings = strings.to_numpy(dtype=object)
    out = np.full(len(values), None, dtype=object)
    out[present] = F.mask_strings(strings, rng, _kept_domains(strings, k))
    return pd.Series(out, index=values.index, dtype=object, name=values.name)


def hmac_key(env: Mapping[str, str] = os.environ) -> bytes:
    """The secret key of the hash treatment, from ``SYNTHOHIVE_HMAC_KEY``."""
    key = env.get(HMAC_KEY_VAR, "")
    if not key:
        raise PrivacyError(
            f"{HMAC_KEY_VAR} is not set, and the hash treatment needs a secret key. Set it "
            f'to a long random string, e.g. export {HMAC_KEY_VAR}=$(python -c "import '
            'secrets; print(secrets.token_hex(32))"), and keep the same key for every run '
            "whose hashed columns must join."
        )
    return key.encode("utf-8")


def _as_text(values: pd.Series) -> pd.Series:
    """The text that is hashed: str of each value, whole floats without ".0" so that an id
    read as float (a nullable integer column) hashes like the same id read as an int."""
    if pd.api.types.is_float_dtype(values.dtype):
        whole = values.notna() & (values % 1 == 0)
        if whole.all():
            return values.astype("int64").astype(str)
        text = values.astype(str).astype(object)
        text[whole] = values[whole].astype("int64").astype(str)
        return text
    return values.astype(str)


def hmac_tokens(values: pd.Series, key: bytes) -> pd.Series:
    """HMAC-SHA256 token (32 hex characters) of the UTF-8 text of each non-null value;
    nulls stay null. Each distinct value is hashed once."""
    present = values.notna().to_numpy()
    codes, uniques = pd.factorize(_as_text(values[present]))
    digests = [
        hmac.digest(key, str(u).encode("utf-8"), hashlib.sha256).hex()[:TOKEN_HEX_CHARS]
        for u in uniques
    ]
    out = np.full(len(values), None, dtype=object)
    out[present] = np.array(digests, dtype=object)[codes] if digests else []
    return pd.Series(out, index=values.index, dtype=object, name=values.name)


def drop_values(n: int) -> pd.Series:
    """``n`` nulls: the drop treatment."""
    return pd.Series(np.full(n, None, dtype=object), dtype=object)
