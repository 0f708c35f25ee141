"""Learn the relational plan of a whole graph and prepare each table's training data.

For every table: how its keys look, each FK's null and orphan rates, and the derived
columns (child counts on parents, parent clusters on children, hierarchy depth) that let
the per-table models learn the relations between tables. See ``plan`` for the meanings.
The row rules come from the project and the real rows (``discovery.table_rules``); where
one is a ratio ``b = a x r``, the model learns ``r`` in ``b``'s place.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from ..privacy.holdout import holdout_mask
from ..privacy.personal import MODELLED, ParentLink, findings_of, plan_table
from ..privacy.settings import PRIVACY_KEY, PUBLIC, PrivacySettings, is_copy, is_public
from ..privacy.treat import hmac_key
from ..schema import Column, ColumnType, ForeignKey, LogicalType, SchemaGraph, Table
from .discovery import as_numbers, table_rules
from .enforcement import learned_ratios
from .features import MAX_CLUSTERS, assign, kmeans, learn_encoder
from .identities import GAP_PREFIX, Offset, Ratio, Rule
from .keys import KeyFormat, learn_identifier_format, learn_key_format
from .plan import (
    CLUSTER_PREFIX,
    COUNT_PREFIX,
    FkPlan,
    TablePlan,
    choose_primary_fk,
    histogram,
    table_seed,
    unique_share,
)
from .tree import DEPTH_COLUMN, real_depths

_COUNT_TYPE = ColumnType(LogicalType.INTEGER, "bigint", nullable=False)
_RATIO_TYPE = ColumnType(LogicalType.FLOAT, "double")


@dataclass
class Prepared:
    """A table's plan and what its model trains on."""

    plan: TablePlan
    frame: pd.DataFrame  # learned columns: model columns (ratios in place), then derived
    columns: list[Column]  # one Column (with type) per learned column
    context: np.ndarray | None  # features of each row's primary parent
    holdout: np.ndarray | None = None  # rows no model trains on (privacy metrics)


def locate(
    parent: pd.DataFrame, parent_cols: tuple[str, ...], child: pd.DataFrame, cols: tuple[str, ...]
) -> np.ndarray:
    """Row index in ``parent`` of each child row's parent; -1 for NULL or no parent."""
    if len(parent) == 0 or len(child) == 0:
        return np.full(len(child), -1, dtype=np.int64)
    keys = pd.MultiIndex.from_frame(parent[list(parent_cols)].astype(object))
    probe = child[list(cols)].astype(object)
    idx = keys.get_indexer(pd.MultiIndex.from_frame(probe))
    idx[probe.isna().any(axis=1).to_numpy()] = -1
    return idx.astype(np.int64)


def prepare(
    graph: SchemaGraph,
    frames: Mapping[str, pd.DataFrame],
    seed: int = 0,
    privacy: PrivacySettings | None = None,
) -> dict[str, Prepared]:
    privacy = privacy or PrivacySettings()
    plans = {key: _base_plan(graph, graph.table(key), frames) for key in graph.order}
    real, frames = frames, dict(frames)
    for key in graph.order:  # parents first: a child may repeat a parent's personal value
        plans[key], frames[key] = _personal(graph.table(key), plans, frames, key, privacy, seed)
    derived: dict[str, dict[str, pd.Series]] = {key: {} for key in graph.order}
    _add_counts(plans, frames, derived)
    _add_clusters(plans, frames, derived, seed, privacy.min_category_rows)
    _add_depth(plans, frames, derived)
    prepared: dict[str, Prepared] = {}
    for key in graph.order:
        table, plan, frame = graph.table(key), plans[key], frames[key]
        extra = derived[key]
        rules = () if plan.copied else _rules(table, plan, frame)
        extra.update(_gaps(rules, frame, plan.column_types))
        plan = plan.with_(derived=tuple(extra), rules=rules)
        # the rules decide the copy columns: the share is taken over those
        plan = plan.with_(copy_unique_share=unique_share(frame, plan.copy_columns))
        context = None
        if plan.primary_fk is not None:
            plan, context = _with_context(plan, frame, plans, frames, privacy)
        plans[key] = plan
        learned = frame[list(plan.model_columns)].reset_index(drop=True)
        learned = _with_ratios(plan, learned)
        for name, values in extra.items():
            learned[name] = values.reset_index(drop=True)
        columns = [_learned_column(plan, table, table.column(c)) for c in plan.model_columns]
        columns += [_derived_column(name, values) for name, values in extra.items()]
        holdout = None if plan.copied else holdout_mask(real[key], seed, privacy)
        if holdout is not None:  # generate finds the same rows again for the metrics
            recipe = {"seed": seed, "share": privacy.holdout_share}
            recipe |= {"max_rows": privacy.holdout_max_rows, "rows": int(holdout.sum())}
            plan = plan.with_(holdout=recipe)
        plans[key] = plan
        prepared[key] = Prepared(plan, learned, columns, context, holdout)
    return prepared


def _base_plan(graph: SchemaGraph, table: Table, frames: Mapping[str, pd.DataFrame]) -> TablePlan:
    frame = frames[table.key]
    fks = [fk for fk in graph.foreign_keys if fk.child == table.key]
    fks += [fk for fk in graph.deferred if fk.child == table.key and fk not in fks]
    fk_plans = tuple(_plan_fk(fk, frame, frames, fk in graph.deferred) for fk in fks)
    fk_columns = {c for fk in fks for c in fk.columns}
    pk = table.primary_key.columns if table.primary_key else ()
    ignored = tuple(c.name for c in table.columns if _truthy(c.meta.get("synthohive_ignore")))
    types = {c.name: c.type for c in table.columns if c.type is not None}
    copied = is_copy(table.meta)  # a reference table: its rows as they are, keys included
    minted: dict[str, KeyFormat] = {}
    for name in list(pk) + [c.name for c in table.columns if c.unique or c.id_like]:
        if name not in fk_columns and name not in minted and name not in ignored and not copied:
            minted[name] = _key_format(table, frame[name], types[name].logical, fk_columns)
    keyish = set() if copied else set(minted) | fk_columns | set(pk)
    return TablePlan(
        key=table.key,
        name=table.name,
        identifier=table.identifier,
        database=table.database,
        schema=table.schema,
        rows=len(frame),
        columns=tuple((c.name, types[c.name]) for c in table.columns if c.name in types),
        primary_key=tuple(pk),
        minted=minted,
        fks=fk_plans,
        primary_fk=None if copied else choose_primary_fk(fk_plans),
        model_columns=tuple(
            c.name for c in table.columns if c.name not in keyish and c.name not in ignored
        ),
        ignored=ignored,
        options={k: v for k, v in table.meta.items() if str(k).startswith("synthohive")},
        checks=_checks(table),
        real_ref=table.display,
        copied=copied,
    )


def _personal(
    table: Table,
    plans: Mapping[str, TablePlan],
    frames: Mapping[str, pd.DataFrame],
    key: str,
    privacy: PrivacySettings,
    seed: int,
) -> tuple[TablePlan, pd.DataFrame]:
    """Find the table's personal columns and plan their treatment (``privacy.personal``);
    the ones generated after sampling leave the model's columns."""
    plan, frame = plans[key], frames[key]
    if plan.copied:
        return plan, frame
    skip = {*plan.primary_key, *plan.ignored, *(c for fk in plan.fks for c in fk.columns)}
    # a unique column that is no key (an e-mail) is faked unique rather than minted
    skip |= {c.name for c in table.columns if c.name in plan.minted and c.id_like}
    findings = findings_of(table, frame, skip, seed)
    if not findings:
        return plan, frame
    # kept or hashed unique columns stay minted (fresh values, none real); faked ones not
    findings = [f for f in findings if f.column not in plan.minted or f.treatment not in MODELLED]
    found = {f.column for f in findings}
    if found & set(plan.minted):
        minted = {c: fmt for c, fmt in plan.minted.items() if c not in found}
        plan = plan.with_(minted=minted)
    links = []
    for i, fk in enumerate(plan.fks):
        parent = plans.get(fk.parent)
        if parent is None or not parent.generated_personal or fk.parent not in frames:
            continue
        rows = locate(frames[fk.parent], fk.parent_columns, frame, fk.columns)
        kinds = {p.column: p.kind for p in parent.personal if p.generated}
        links.append(ParentLink(i, rows, frames[fk.parent], kinds))
    needs_key = any(f.treatment == "hash" for f in findings)
    personal, frame = plan_table(
        table,
        frame,
        findings,
        links,
        k=privacy.min_category_rows,
        hmac_key=hmac_key() if needs_key else None,
    )
    generated = {p.column for p in personal if p.generated}
    model_columns = tuple(c for c in plan.model_columns if c not in generated)
    return plan.with_(personal=personal, model_columns=model_columns), frame


def _key_format(
    table: Table, series: pd.Series, logical: LogicalType, fk_columns: set[str]
) -> KeyFormat:
    """Keys start past the real values; a key part beside FK columns numbers rows within
    each parent like the real one; identifiers that are no key repeat like the real ones."""
    pk = table.primary_key.columns if table.primary_key else ()
    if series.name in pk:
        return learn_key_format(series, logical, fresh=not fk_columns & set(pk))
    if table.column(series.name).unique:
        return learn_key_format(series, logical)
    return learn_identifier_format(series, logical)


def _plan_fk(
    fk: ForeignKey, frame: pd.DataFrame, frames: Mapping[str, pd.DataFrame], deferred: bool
) -> FkPlan:
    values = frame[list(fk.columns)]
    null = values.isna().any(axis=1).to_numpy()
    parent = frames[fk.parent]
    idx = locate(parent, fk.parent_columns, frame, fk.columns)
    orphans = (~null) & (idx < 0)
    present = int((~null).sum())
    per_parent = np.bincount(idx[idx >= 0], minlength=len(parent)) if len(parent) else idx[:0]
    return FkPlan(
        columns=fk.columns,
        parent=fk.parent,
        parent_columns=fk.parent_columns,
        null_rate=float(null.mean()) if len(frame) else 0.0,
        histogram=histogram(per_parent, len(parent)),
        self_reference=fk.is_self_reference,
        deferred=deferred,
        orphan_rate=float(orphans.sum() / present) if present else 0.0,
    )


def _add_counts(plans, frames, derived) -> None:
    """Children per parent, as a derived column on the parent, for every non-self FK."""
    for key, plan in list(plans.items()):
        fks = list(plan.fks)
        for i, fk in enumerate(fks):
            if fk.self_reference:
                continue
            name = f"{COUNT_PREFIX}{len(derived[fk.parent])}"
            idx = locate(frames[fk.parent], fk.parent_columns, frames[key], fk.columns)
            counts = np.bincount(idx[idx >= 0], minlength=len(frames[fk.parent]))
            derived[fk.parent][name] = pd.Series(counts.astype(np.int64))
            fks[i] = FkPlan(**{**fk.__dict__, "count_column": name})
        plans[key] = plan.with_(fks=tuple(fks))


def _add_clusters(plans, frames, derived, seed: int, min_rows: int) -> None:
    """For secondary FKs: cluster the parents, and learn each child row's cluster."""
    for key, plan in list(plans.items()):
        fks = list(plan.fks)
        for i, fk in enumerate(fks):
            if i == plan.primary_fk or fk.self_reference or fk.deferred:
                continue
            parent_frame = frames[fk.parent]
            encoder = learn_encoder(parent_frame, plans[fk.parent].model_columns, min_rows)
            if encoder.width == 0 or len(parent_frame) < 4:
                continue
            vectors = encoder.encode(parent_frame).astype(np.float64)
            rng = np.random.default_rng(table_seed(seed, key, salt=100 + i))
            k = min(MAX_CLUSTERS, max(1, len(parent_frame) // 8))
            centroids = kmeans(vectors, k, rng)
            labels = assign(vectors, centroids)
            idx = locate(parent_frame, fk.parent_columns, frames[key], fk.columns)
            child_labels = np.where(idx >= 0, labels[np.clip(idx, 0, None)], -1)
            name = f"{CLUSTER_PREFIX}{i}"
            series = pd.Series(pd.array(child_labels, dtype="Int64"))
            derived[key][name] = series.mask(series < 0)
            fks[i] = FkPlan(
                **{
                    **fk.__dict__,
                    "cluster_column": name,
                    "encoder": encoder,
                    "centroids": tuple(tuple(float(x) for x in c) for c in centroids),
                }
            )
        plans[key] = plan.with_(fks=tuple(fks))


def _add_depth(plans, frames, derived) -> None:
    for key, plan in plans.items():
        for fk in plan.fks:
            if fk.self_reference and not fk.deferred:
                depths = real_depths(frames[key], list(fk.parent_columns), list(fk.columns))
                derived[key][DEPTH_COLUMN] = pd.Series(depths.astype(np.int64))
                break


def _with_context(
    plan: TablePlan, frame, plans, frames, privacy: PrivacySettings
) -> tuple[TablePlan, np.ndarray | None]:
    fk = plan.fks[plan.primary_fk]
    parent_frame = frames[fk.parent]
    encoder = learn_encoder(parent_frame, plans[fk.parent].model_columns, privacy.min_category_rows)
    if encoder.width == 0:
        return plan, None
    idx = locate(parent_frame, fk.parent_columns, frame, fk.columns)
    rows = parent_frame.iloc[np.clip(idx, 0, None)] if len(parent_frame) else parent_frame
    context = encoder.encode(rows.reset_index(drop=True), valid=idx >= 0)
    return plan.with_(context=encoder), context


def _rules(table: Table, plan: TablePlan, frame: pd.DataFrame) -> tuple[Rule, ...]:
    """The project's expressions and the identities, orderings and ratios the real rows
    show, over the modelled columns (the model still learns a derived column;
    generation overwrites it)."""
    return table_rules(table, frame, plan.column_types, plan.model_columns).rules


def _with_ratios(plan: TablePlan, learned: pd.DataFrame) -> pd.DataFrame:
    """``learned`` with each ratio's target replaced by its ratio to the base (float,
    NULL where either is NULL; ``enforcement.learned_ratios``). Where the base is 0 the
    target is 0 too (``discovery``) and any ratio gives it: the median ratio there keeps
    the ratio's distribution."""
    ratios = [r for r in plan.rules if isinstance(r, Ratio)]
    if not ratios:
        return learned
    types = plan.column_types
    out = learned.copy()
    for rule in ratios:  # read from ``learned``: a ratio's base may be another's target
        base = as_numbers(learned[rule.base], types[rule.base].logical)
        target = as_numbers(learned[rule.target], types[rule.target].logical)
        ratio = learned_ratios(base, target, types[rule.target])
        ratio[(base == 0) & ~np.isnan(target)] = np.nanmedian(ratio[base > 0])
        out[rule.target] = ratio
    return out


def _learned_column(plan: TablePlan, table: Table, column: Column) -> Column:
    """The column as the model learns it: a ratio target is a plain float (no facts of
    the target's values apply to the ratio); a public table's columns are public."""
    if column.name not in plan.ratio_targets:
        if is_public(table.meta) and not is_public(column.meta):
            return replace(column, meta={**column.meta, PRIVACY_KEY: PUBLIC})
        return column
    nullable = column.type.nullable if column.type else True
    return Column(
        column.name, not_null=column.not_null, type=replace(_RATIO_TYPE, nullable=nullable)
    )


def _gaps(rules, frame: pd.DataFrame, types: Mapping[str, ColumnType]) -> dict[str, pd.Series]:
    """Per ``Offset`` rule, its gap ``target - base`` in seconds (NULL where either is),
    a derived column the model learns."""
    out: dict[str, pd.Series] = {}
    for rule in rules:
        if isinstance(rule, Offset):
            base = as_numbers(frame[rule.base], types[rule.base].logical)
            target = as_numbers(frame[rule.target], types[rule.target].logical)
            out[rule.gap] = pd.Series((target - base) / 1e6, dtype="float64")
    return out


def _derived_column(name: str, values: pd.Series) -> Column:
    # cluster labels are categories, counts and depths are numbers, gaps are seconds
    # numbers the relational layer made, not real values: no rare-value protection
    meta = {"synthohive_kind": "discrete"} if name.startswith(CLUSTER_PREFIX) else {}
    meta[PRIVACY_KEY] = PUBLIC
    kind = _RATIO_TYPE if name.startswith(GAP_PREFIX) else _COUNT_TYPE
    return Column(name, not_null=not values.isna().any(), type=kind, meta=meta)


def _checks(table: Table) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for col in table.columns:
        facts: dict[str, Any] = {}
        if col.not_null:
            facts["not_null"] = True
        if col.accepted_values is not None:
            facts["accepted_values"] = [_plain(v) for v in col.accepted_values]
        if facts:
            out[col.name] = facts
    return out


def _plain(value: Any) -> Any:
    return value if isinstance(value, (bool, int, float, str)) or value is None else str(value)


def _truthy(value: Any) -> bool:
    return value is True or str(value).lower() in ("true", "1", "yes")
