"""The ``config.meta`` keys synthohive reads, each declared once, and the one meta merge.

``KEYS`` holds every ``synthohive_*`` key: its values, where it may appear (a column, a
table, or both; a table is a source table, model or seed, and a source's own meta holds
for each of its tables) and what it does. Any other ``synthohive_<option>`` on a table sets
an option of the model for that table (``MODEL_OPTIONS``). ``MARKINGS`` are the privacy
markings other tools write, recognised but not validated. ``meta_problems`` reports unknown
keys (with a "did you mean"), keys in the wrong place and values of the wrong type, so
that fit refuses them before it reads anything. The README's configuration table is
``markdown_table()``, which a test keeps in step.

Meta is merged by ``node_meta`` alone, last wins: a source's meta < the table's meta <
its ``config.meta``; for a column, its meta < its ``config.meta``. Like dbt, the merge is
shallow, per top-level key.
"""

from __future__ import annotations

import difflib
import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..schema import SchemaGraph

PREFIX = "synthohive_"


class Place(enum.Flag):
    """Where a key may appear."""

    COLUMN = enum.auto()
    TABLE = enum.auto()
    BOTH = COLUMN | TABLE

    @property
    def label(self) -> str:
        return "table or column" if self is Place.BOTH else str(self.name).lower()


@dataclass(frozen=True)
class MetaKey:
    """One ``config.meta`` key: ``values`` as the README shows them, ``check`` a cheap test
    of a value (None where another check owns the values: ``privacy.check`` for the privacy
    keys, ``emit.thresholds`` for thresholds) and ``to_model`` for the keys that are
    options of the model too (``synthohive_epochs``)."""

    name: str
    where: Place
    values: str
    doc: str
    check: Callable[[Any], bool] | None = None
    to_model: bool = False


def _flag(value: Any) -> bool:
    return isinstance(value, bool) or str(value).lower() in ("true", "false", "yes", "no", "1", "0")


def _positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _text(value: Any) -> bool:
    return isinstance(value, str) and bool(value)


_KEYS = (
    MetaKey("synthohive_ignore", Place.COLUMN, "true",
            "do not model the column (written as NULL); use for unsupported types", _flag),
    MetaKey("synthohive_kind", Place.COLUMN, "discrete|continuous",
            "override how a column is modelled",
            lambda v: v in ("discrete", "continuous")),
    MetaKey("synthohive_identifier", Place.COLUMN, "false",
            "the column holds data, not identifiers that no key declares: modelled, "
            "never minted anew", _flag),
    MetaKey("synthohive_pii", Place.COLUMN, "fake|mask|hash|drop|keep|true|false",
            "personal data and its treatment (`true`: fake; `false`: not personal) — see "
            "[Privacy](#privacy)"),
    MetaKey("synthohive_pii_kind", Place.COLUMN, "email|phone|...",
            "the kind of personal data, when detection cannot tell"),
    MetaKey("synthohive_locale", Place.BOTH, "de_DE",
            "locale of made-up names and addresses", _text),
    MetaKey("synthohive_privacy", Place.BOTH, "public",
            "values are public: kept as they are, rare ones included"),
    MetaKey("synthohive_mode", Place.TABLE, "copy",
            "a reference table copied as it is, keys included, no model"),
    MetaKey("synthohive_epochs", Place.TABLE, "50",
            "per-table training epochs (overrides `--epochs`)", _positive_int, True),
    MetaKey("synthohive_batch_size", Place.TABLE, "500",
            "per-table batch size (overrides `--batch-size`)", _positive_int, True),
    MetaKey("synthohive_sample_rows", Place.TABLE, "200000",
            "fit reads at most this many rows of this root table, sampled inside the "
            "warehouse; its children follow (overrides `--sample-rows`)", _positive_int),
    MetaKey("synthohive_thresholds", Place.TABLE, "{...}",
            "per-table fidelity-test thresholds (see "
            "[Generated tests](#generated-tests-and-thresholds))",
            lambda v: isinstance(v, Mapping)),
    MetaKey("synthohive_fidelity_severity", Place.TABLE, "warn|error",
            "per-table severity of the fidelity tests",
            lambda v: str(v).lower() in ("warn", "error")),
    MetaKey("synthohive_generated", Place.TABLE, "true",
            "set by synthohive on what it writes (sources, seeds, models): never read as "
            "real data", _flag),
)  # fmt: skip
KEYS: Mapping[str, MetaKey] = MappingProxyType({k.name: k for k in _KEYS})


@dataclass(frozen=True)
class ModelOptionFamily:
    """``synthohive_<option>`` on a table: that option of the model, for that table only.
    ``options`` per model; the model refuses an option it does not take when it is built
    (``CTGANConfig.from_options``)."""

    where: Place
    options: Mapping[str, tuple[str, ...]]
    doc: str

    @property
    def names(self) -> frozenset[str]:
        return frozenset(o for opts in self.options.values() for o in opts)


MODEL_OPTIONS = ModelOptionFamily(
    Place.TABLE,
    MappingProxyType({
        "ctgan": (
            "embedding_dim", "generator_dim", "discriminator_dim", "pac", "lr", "betas",
            "weight_decay", "discriminator_steps", "gp_lambda", "dropout", "tau",
            "log_frequency", "max_vgm_components", "vgm_subsample", "vgm_weight_threshold",
            "validate_every", "validation_rows", "patience", "cond_dropout", "sample_batch",
            "precision",
        ),
        "copula": ("quantiles",),
        "autoregressive": (
            "bins", "quantiles", "hidden", "embedding_cap", "context_hidden", "learning_rate",
            "weight_decay", "patience", "dropout", "validation_share", "validation_rows",
            "max_seconds", "precision",
        ),
    }),
    "any other option of the model, for this table",
)  # fmt: skip

#: privacy markings other tools write (dbt_snow_mask, data contracts), read by
#: ``privacy.detect`` and traced from model columns to source columns; not validated
MARKINGS = ("pii", "contains_pii", "sensitive", "data_privacy", "masking_policy")


def node_meta(node: Any) -> dict[str, Any]:
    """The meta of a dbt node (source, model, seed) or column, merged the one way: the
    source's meta (sources only) < the node's meta < its ``config.meta``."""
    meta: dict[str, Any] = {}
    if node is None:
        return meta
    for layer in (
        getattr(node, "source_meta", None),
        getattr(node, "meta", None),
        getattr(getattr(node, "config", None), "meta", None),
    ):
        meta.update(layer or {})
    return meta


def model_overrides(meta: Mapping[str, Any]) -> dict[str, Any]:
    """The model options a table's meta sets, by option name (``synthohive_epochs: 50``
    gives ``{"epochs": 50}``): every ``synthohive_*`` key that is not a setting of
    synthohive itself."""
    out: dict[str, Any] = {}
    for key, value in meta.items():
        spec = KEYS.get(key)
        if str(key).startswith(PREFIX) and (spec is None or spec.to_model):
            out[str(key).removeprefix(PREFIX)] = value
    return out


def meta_problems(graph: SchemaGraph) -> list[str]:
    """Every problem with the ``synthohive_*`` meta of the graph's tables and columns:
    unknown keys, keys in the wrong place, values of the wrong type."""
    problems: list[str] = []
    for key in graph.order:
        table = graph.table(key)
        problems += _problems(table.meta, Place.TABLE, table.display)
        for col in table.columns:
            where = f"{table.display} column {col.name}"
            problems += _problems(col.meta, Place.COLUMN, where)
    return problems


def _problems(meta: Mapping[str, Any], place: Place, where: str) -> list[str]:
    problems = []
    for name, value in meta.items():
        if not str(name).startswith(PREFIX):
            continue
        spec = KEYS.get(name)
        option = str(name).removeprefix(PREFIX)
        if spec is None and option in MODEL_OPTIONS.names:
            if place not in MODEL_OPTIONS.where:
                problems.append(
                    f"{where}: config.meta {name} is a model option, which applies to a "
                    "whole table; move it to the table's config.meta"
                )
        elif spec is None:
            problems.append(
                f"{where}: config.meta {name} is not a synthohive key; " + _hint(name, place)
            )
        elif place not in spec.where:
            problems.append(
                f"{where}: config.meta {name} belongs on a {spec.where.label}, not on a "
                f"{place.label}; move it there"
            )
        elif spec.check is not None and not spec.check(value):
            problems.append(f"{where}: config.meta {name}: {value!r}; use {spec.values}")
    return problems


def _hint(name: str, place: Place) -> str:
    known = [k.name for k in _KEYS if place in k.where]
    if place in MODEL_OPTIONS.where:
        known += sorted(PREFIX + o for o in MODEL_OPTIONS.names)
    # compared without the prefix, which every candidate shares and would make all close
    suffixes = [k.removeprefix(PREFIX) for k in known]
    close = difflib.get_close_matches(name.removeprefix(PREFIX), suffixes, n=2, cutoff=0.6)
    if close:
        return f"did you mean {' or '.join(PREFIX + c for c in close)}?"
    shown = [k.name for k in _KEYS if place in k.where]
    extra = ", or synthohive_<model option>" if place in MODEL_OPTIONS.where else ""
    return f"the keys of a {place.label} are {', '.join(shown)}{extra}"


def markdown_table() -> str:
    """The README's configuration table, one row a key and one for the model options."""
    rows = ["| key | on | meaning |", "| --- | --- | --- |"]
    for k in _KEYS:
        values = k.values.replace("|", "\\|")
        rows.append(f"| `{k.name}: {values}` | {k.where.label} | {k.doc} |")
    options = "; ".join(
        f"{model}: {', '.join(f'`{o}`' for o in opts)}"
        for model, opts in MODEL_OPTIONS.options.items()
    )
    rows.append(
        f"| `{PREFIX}<option>` | {MODEL_OPTIONS.where.label} | {MODEL_OPTIONS.doc} ({options}) |"
    )
    return "\n".join(rows)
