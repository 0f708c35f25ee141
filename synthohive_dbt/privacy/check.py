"""Every problem with the privacy markings of a schema graph, found before anything runs."""

from __future__ import annotations

import os
from collections.abc import Mapping

from ..project.meta import meta_problems
from ..schema import SchemaGraph, Table
from .detect import KINDS, column_treatment
from .settings import COPY, KIND_KEY, MODE_KEY, PII_KEY, PRIVACY_KEY, PUBLIC, is_copy
from .treat import HMAC_KEY_VAR

_MODES = (COPY, "synthesize")
_PRIVACY = (PUBLIC, "private")


def check_graph(graph: SchemaGraph, env: Mapping[str, str] = os.environ) -> list[str]:
    """Problems of the meta of every table: unknown ``synthohive_*`` keys, keys in the
    wrong place or of the wrong type (``project.meta``); unknown treatments, kinds, modes;
    ``hash`` without SYNTHOHIVE_HMAC_KEY; personal-data markings on keys; copied tables
    whose FKs point at synthesized tables."""
    problems = meta_problems(graph)
    hashed: list[str] = []
    for key in graph.order:
        table = graph.table(key)
        problems += _table_problems(graph, table)
        for col in table.columns:
            where = f"{table.display} column {col.name}"
            if PII_KEY in col.meta and column_treatment(col.meta) is None:
                problems.append(
                    f"{where}: config.meta {PII_KEY}: {col.meta[PII_KEY]!r} is not a "
                    "treatment; use fake, mask, hash, drop, keep, true or false"
                )
            if KIND_KEY in col.meta and str(col.meta[KIND_KEY]) not in KINDS:
                problems.append(
                    f"{where}: config.meta {KIND_KEY}: {col.meta[KIND_KEY]!r} is not a kind; "
                    f"use one of {', '.join(KINDS)}"
                )
            if PRIVACY_KEY in col.meta and str(col.meta[PRIVACY_KEY]).lower() not in _PRIVACY:
                problems.append(
                    f"{where}: config.meta {PRIVACY_KEY}: {col.meta[PRIVACY_KEY]!r}; "
                    "use public (values kept as they are) or leave it out"
                )
            treatment = column_treatment(col.meta)
            if treatment not in (None, "none") and col.name in _keys(graph, table):
                problems.append(
                    f"{where}: config.meta {PII_KEY}: {col.meta[PII_KEY]!r} is on a key "
                    "column; keys are minted anew anyway (no real key value is written), "
                    f"so remove {PII_KEY} from it"
                )
            if treatment == "hash":
                hashed.append(f"{table.name}.{col.name}")
    if hashed and not env.get(HMAC_KEY_VAR):
        problems.append(
            f"{', '.join(hashed)} use the hash treatment, which needs a secret key in the "
            f"environment variable {HMAC_KEY_VAR}; set it (the same key in every run whose "
            "hashed columns must join), e.g. export "
            f"{HMAC_KEY_VAR}=$(python -c 'import secrets; print(secrets.token_hex(32))')"
        )
    return problems


def _table_problems(graph: SchemaGraph, table: Table) -> list[str]:
    problems = []
    mode = table.meta.get(MODE_KEY)
    if mode is not None and str(mode).lower() not in _MODES:
        problems.append(
            f"{table.display}: config.meta {MODE_KEY}: {mode!r}; use copy (the table is "
            "copied as it is, keys included) or leave it out"
        )
    privacy = table.meta.get(PRIVACY_KEY)
    if privacy is not None and str(privacy).lower() not in _PRIVACY:
        problems.append(f"{table.display}: config.meta {PRIVACY_KEY}: {privacy!r}; use public")
    if is_copy(table.meta):
        for fk in graph.fks_of(table.key) + tuple(
            d for d in graph.deferred if d.child == table.key
        ):
            parent = graph.tables.get(fk.parent)
            if parent is not None and not is_copy(parent.meta) and fk.parent != table.key:
                problems.append(
                    f"{table.display} is copied as it is ({MODE_KEY}: copy) but its FK "
                    f"{', '.join(fk.columns)} points at {parent.display}, which is synthesized: "
                    f"the copied keys would be orphans; copy {parent.display} too or "
                    f"synthesize {table.display}"
                )
    return problems


def _keys(graph: SchemaGraph, table: Table) -> set[str]:
    keys = set(table.primary_key.columns if table.primary_key else ())
    keys |= {c for fk in graph.fks_of(table.key) for c in fk.columns}
    keys |= {c.name for c in table.columns if c.unique and not _personal_unique(c)}
    return keys


def _personal_unique(col) -> bool:
    """A unique column that is no identifier (an e-mail): it may be personal data."""
    return col.type is None or col.type.logical.value == "text"
