"""Generating synthetic tables into a warehouse: one stream-and-write path for every
destination (a synthetic schema, a synthetic environment), the real values of personal
columns that made-up values avoid, and the privacy metrics measured afterwards."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from .errors import UnsafeWriteError, WarehouseError
from .options import DEFAULT_SCHEMA, GENERATE_DEFAULTS, GenerateOptions
from .privacy.holdout import holdout_mask
from .privacy.metrics import MAX_EXACT_ROWS, TablePrivacy, table_privacy
from .privacy.settings import PrivacySettings
from .progress import SILENT, PrivacyMeasured, Reporter
from .project.placements import Placement, same_database
from .relational import RelationalModel
from .relational.plan import table_seed
from .warehouse import Relation, Warehouse


def write_tables(
    relational: RelationalModel,
    wh: Warehouse,
    destinations: Mapping[str, Relation],
    options: GenerateOptions = GENERATE_DEFAULTS,
    reporter: Reporter = SILENT,
) -> dict[str, int]:
    """Generate every table and stream it to its destination (by table key), parents
    first, chunk by chunk into a staging table swapped in atomically: memory stays bounded
    by the chunk size. Schemas that hold a real table of the model in the destination's
    database stay protected. Returns rows per table name."""
    written: dict[str, int] = {}
    for plan, chunks in relational.stream(
        scale=options.scale,
        seed=options.seed,
        chunk_rows=options.chunk_rows,
        keep_orphans=options.keep_orphans,
        reporter=reporter,
        avoid=real_personal_values(relational, wh),
    ):
        target = destinations[plan.key]
        protected = {
            p.schema
            for p in relational.plans.values()
            if same_database(p.database, target.database)
        }
        written[plan.name] = wh.write_table_chunks(
            target.schema,
            target.identifier,
            chunks,
            plan.column_types,
            database=target.database,
            protected_schemas=protected,
        )
    return written


def schema_destinations(relational: RelationalModel, schema: str) -> dict[str, Relation]:
    """Every table in ``schema`` under its real identifier; refuses a schema that holds a
    real table of the model."""
    holders = [p.name for p in relational.plans.values() if p.schema.lower() == schema.lower()]
    if holders:
        raise UnsafeWriteError(
            f"--schema {schema!r} holds real tables ({', '.join(holders)}); "
            "choose another schema for the synthetic tables"
        )
    return {k: Relation(None, schema, p.identifier) for k, p in relational.plans.items()}


def write_synthetic(
    relational: RelationalModel,
    wh: Warehouse,
    *,
    schema: str = DEFAULT_SCHEMA,
    options: GenerateOptions = GENERATE_DEFAULTS,
    reporter: Reporter = SILENT,
) -> dict[str, int]:
    """Generate every table into ``schema`` of the open warehouse (``write_tables``)."""
    where = schema_destinations(relational, schema)
    return write_tables(relational, wh, where, options, reporter)


def write_environment(
    relational: RelationalModel,
    wh: Warehouse,
    places: list[Placement],
    options: GenerateOptions = GENERATE_DEFAULTS,
    reporter: Reporter = SILENT,
) -> dict[str, int]:
    """Generate every table where its source resolves in the environment's target."""
    return write_tables(relational, wh, {p.key: p.target for p in places}, options, reporter)


def real_personal_values(
    relational: RelationalModel, wh: Warehouse
) -> dict[str, dict[str, pd.Series]]:
    """Per table key, the distinct real values of each personal column whose made-up
    values must differ from them (``PersonalColumn.avoids_real``). They stay in memory
    while generating; a table that cannot be read is generated without them (the dbt test
    ``no_real_value_copied`` still checks)."""
    out: dict[str, dict[str, pd.Series]] = {}
    for key, plan in relational.plans.items():
        names = [p.column for p in plan.personal if p.avoids_real]
        if not names:
            continue
        try:
            frame = wh.read(plan.relation, names)
        except WarehouseError:
            continue
        out[key] = {n: pd.Series(frame[n].dropna().astype(str).unique()) for n in names}
    return out


def measure_privacy(
    relational: RelationalModel,
    wh: Warehouse,
    synthetic: Mapping[str, Relation],
    *,
    seed: int = 0,
    reporter: Reporter = SILENT,
) -> list[TablePrivacy]:
    """Privacy metrics of each generated table (``privacy.metrics``): its synthetic rows
    against the real rows the model trained on and the holdout it never saw, over the
    modelled columns (keys are minted anew and personal columns made up: neither can
    copy a row). ``synthetic`` maps table keys to where their synthetic rows are. Tables
    whose real rows this connection cannot read, copied tables and tables fitted without
    a holdout are left out."""
    results: list[TablePrivacy] = []
    for key in relational.order:
        plan = relational.plans[key]
        if plan.copied or not plan.holdout or key not in synthetic:
            continue
        columns = [c for c in plan.copy_columns if c in plan.column_types]
        if not columns:
            continue
        try:
            real = wh.read(plan.relation, where=plan.sample)  # the rows fit read
            # the metrics compare at most MAX_EXACT_ROWS synthetic rows: read no more (the
            # first rows written are as random as any: parents are drawn independently)
            fake = wh.read(synthetic[key], columns, limit=MAX_EXACT_ROWS)
        except WarehouseError:
            continue
        settings = PrivacySettings(
            holdout_share=float(plan.holdout["share"]),
            holdout_max_rows=int(plan.holdout["max_rows"]),
        )
        mask = holdout_mask(real, int(plan.holdout["seed"]), settings)
        rng = np.random.default_rng(table_seed(seed, key, salt=7))
        result = table_privacy(
            plan.name, real.loc[~mask, columns], real.loc[mask, columns], fake, rng=rng
        )
        results.append(result)
        reporter.emit(PrivacyMeasured(plan.name, result.dcr_share, result.passed))
    return results
