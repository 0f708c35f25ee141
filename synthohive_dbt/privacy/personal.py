"""Personal columns of one table: what fit decides about each, and how generate fills it.

At fit (``plan_table``), every column ``detect`` finds, except keys (minted anyway) and
columns marked ``synthohive_pii: keep``, is taken away from the model:

* ``fake``: a ``FakeSpec`` (shapes, domains, a null rate, never a real value) makes new
  values of the same kind; names and addresses in the row's locale (``synthohive_locale``
  meta, else a country column of the row, else en_US); e-mails built from the row's fake
  names when the real ones are built from the real names;
* ``mask``: new strings of the column's shapes (only shapes at least k rows share; an
  e-mail's domain kept when at least k rows share it);
* ``hash``: the column is replaced by HMAC tokens before the model sees it, and modelled
  (a token seen in fewer than k rows never comes back);
* ``drop``: NULL.

A column that repeats its parent's value through an FK (``orders.customer_email`` equal
to the customer's ``email`` in at least 99% of rows) takes the synthetic parent's value.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from ..schema import Table
from .detect import Finding, detect_table
from .fake import FakeSpec, email_pattern, fake_values, learn_spec, locale_for_country
from .settings import LOCALE_KEY
from .treat import hmac_tokens

MODELLED = ("keep", "hash")  # treatments whose column the model still learns
#: kinds drawn from small public vocabularies or spaces (a first name, a postal code, a
#: date): a made-up value may equal a real one by chance, which copies nothing. Every other
#: faked or masked kind avoids the real values when they are at hand (``real_values``) and
#: gets the ``no_real_value_copied`` test.
VOCABULARY = ("first_name", "last_name", "postal_code", "birth_date")
REPEAT_SHARE = 0.99  # a child column equal to its parent's this often repeats it
_COUNTRY_NAMES = ("country", "country_code", "country_name", "nation", "billing_country")
_NAME_KINDS = ("first_name", "last_name", "full_name")


@dataclass(frozen=True)
class PersonalColumn:
    column: str
    kind: str
    treatment: str  # fake | mask | hash | drop | keep
    evidence: tuple[str, ...]
    spec: FakeSpec | None = None  # fake; mask (kind "other" over the local part of e-mails)
    domains: tuple[tuple[str, float], ...] = ()  # mask of e-mails: domains >= k rows share
    parent_fk: int | None = None  # index into the plan's fks: repeats the parent's value
    parent_column: str | None = None
    locale_column: str | None = None  # a country column of the same row
    names: tuple[str, str] | None = None  # (first, last) columns e-mails are built from

    @property
    def generated(self) -> bool:
        """Filled after the model samples (not learned by it)."""
        return self.treatment not in MODELLED

    @property
    def never_real(self) -> bool:
        """No synthetic value may equal a real one (tested in dbt)."""
        if self.treatment == "hash":
            return True
        return self.treatment in ("fake", "mask") and self.kind not in VOCABULARY

    @property
    def avoids_real(self) -> bool:
        """Generated afresh, avoiding the real values (the parent's repeat is not)."""
        return self.never_real and self.generated and self.parent_fk is None

    def to_json(self) -> dict[str, Any]:
        return {
            "column": self.column,
            "kind": self.kind,
            "treatment": self.treatment,
            "evidence": list(self.evidence),
            "spec": self.spec.to_json() if self.spec else None,
            "domains": [list(d) for d in self.domains],
            "parent_fk": self.parent_fk,
            "parent_column": self.parent_column,
            "locale_column": self.locale_column,
            "names": list(self.names) if self.names else None,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PersonalColumn:
        return cls(
            column=data["column"],
            kind=data["kind"],
            treatment=data["treatment"],
            evidence=tuple(data.get("evidence", ())),
            spec=FakeSpec.from_json(data["spec"]) if data.get("spec") else None,
            domains=tuple((str(d), float(w)) for d, w in data.get("domains", ())),
            parent_fk=data.get("parent_fk"),
            parent_column=data.get("parent_column"),
            locale_column=data.get("locale_column"),
            names=tuple(data["names"]) if data.get("names") else None,  # type: ignore[arg-type]
        )


@dataclass(frozen=True)
class ParentLink:
    """One FK of the table, for spotting columns that repeat a parent's value."""

    index: int  # into the plan's fks
    rows: np.ndarray  # parent row of each child row (-1: none)
    parent: pd.DataFrame
    personal: Mapping[str, str]  # the parent's generated personal columns: name -> kind


def findings_of(
    table: Table, frame: pd.DataFrame | None, skip: set[str], seed: int
) -> list[Finding]:
    """``detect`` on a seeded sample of at most 10,000 rows, keys and ``skip`` left out."""
    sample = None
    if frame is not None:
        n = min(len(frame), 10_000)
        rows = np.sort(np.random.default_rng(seed).choice(len(frame), n, replace=False))
        sample = frame.iloc[rows].reset_index(drop=True)
    return [f for f in detect_table(table, sample) if f.column not in skip]


def plan_table(
    table: Table,
    frame: pd.DataFrame,
    findings: Sequence[Finding],
    links: Sequence[ParentLink],
    *,
    k: int,
    hmac_key: bytes | None,
) -> tuple[tuple[PersonalColumn, ...], pd.DataFrame]:
    """Each finding's PersonalColumn, and ``frame`` with hashed columns tokenised."""
    kinds = {f.column: f.kind for f in findings}
    locale = str(table.meta.get(LOCALE_KEY) or "en_US")
    country = next((c for c in frame.columns if str(c).lower() in _COUNTRY_NAMES), None)
    first = next((c for c, kind in kinds.items() if kind == "first_name"), None)
    last = next((c for c, kind in kinds.items() if kind == "last_name"), None)
    out: list[PersonalColumn] = []
    if any(f.treatment == "hash" for f in findings):
        frame = frame.copy()
    for found in findings:
        name, kind, treatment = found.column, found.kind, found.treatment
        base = PersonalColumn(name, kind, treatment, found.evidence)
        if treatment == "keep":
            out.append(base)
            continue
        if treatment == "hash":
            frame[name] = hmac_tokens(frame[name], hmac_key or b"")
            out.append(base)
            continue
        link = _repeated_parent(frame[name], links)
        if link is not None:
            out.append(replace(base, parent_fk=link[0], parent_column=link[1]))
            continue
        if treatment == "drop":
            out.append(base)
            continue
        column = table.column(name)
        col_locale = str((column.meta if column else {}).get(LOCALE_KEY) or locale)
        if treatment == "mask":
            out.append(_mask(base, frame[name], k, col_locale))
            continue
        names = None
        if kind == "email" and first and last:
            if email_pattern(frame[name], frame[first], frame[last]) is not None:
                names = (first, last)
        spec = learn_spec(
            kind,
            frame[name],
            k=k,
            locale=col_locale,
            first=frame[first] if names else None,
            last=frame[last] if names else None,
        )
        localised = kind in (*_NAME_KINDS, "address", "phone", "postal_code")
        out.append(
            replace(base, spec=spec, locale_column=country if localised else None, names=names)
        )
    return tuple(_ordered(out)), frame


def _ordered(columns: list[PersonalColumn]) -> list[PersonalColumn]:
    """Names before the e-mails built from them."""
    return sorted(columns, key=lambda c: c.names is not None)


def _mask(base: PersonalColumn, values: pd.Series, k: int, locale: str) -> PersonalColumn:
    """New strings of the column's shapes; e-mails keep the domains k rows share."""
    text = values.dropna().astype(str)
    if base.kind == "email" or (len(text) and text.str.contains("@").mean() > 0.8):
        domains = learn_spec("email", values, k=k, locale=locale).domains
        if domains:
            local = values.astype(object).where(values.isna(), text.str.rpartition("@")[0])
            spec = learn_spec("other", local, k=k, locale=locale)
            return replace(base, spec=spec, domains=domains)
    return replace(base, spec=learn_spec("other", values, k=k, locale=locale))


def _repeated_parent(values: pd.Series, links: Sequence[ParentLink]) -> tuple[int, str] | None:
    """(FK index, parent column) when ``values`` equal a parent's generated personal
    column through that FK in at least REPEAT_SHARE of the rows where both exist."""
    for link in links:
        has = (link.rows >= 0) & values.notna().to_numpy()
        if has.sum() == 0:
            continue
        mine = values.to_numpy(dtype=object)[has].astype(str)
        for column in link.personal:
            theirs = link.parent[column].to_numpy(dtype=object)[link.rows[has]].astype(str)
            if (mine == theirs).mean() >= REPEAT_SHARE:
                return link.index, column
    return None


# -- generate ------------------------------------------------------------------------------


def fill(
    personal: Sequence[PersonalColumn],
    out: pd.DataFrame,
    parent_values: Mapping[int, tuple[pd.DataFrame, np.ndarray]],
    rng: np.random.Generator,
    avoid: Mapping[str, pd.Series] | None = None,
    seen: dict[str, set[str]] | None = None,
) -> None:
    """Set every generated personal column of ``out`` (in place). ``parent_values``
    maps an FK index to (the synthetic parent frame, each row's parent row or -1);
    ``avoid`` a column's real values, which a made-up value is never equal to; ``seen``
    the values earlier chunks of the table gave its unique columns (updated here), so a
    unique column stays unique across chunks."""
    n = len(out)
    for col in personal:
        if not col.generated:
            continue
        if col.parent_fk is not None and col.parent_fk in parent_values:
            parent, rows = parent_values[col.parent_fk]
            values = np.full(n, None, dtype=object)
            ok = rows >= 0
            if col.parent_column in parent and ok.any():
                values[ok] = parent[col.parent_column].to_numpy(dtype=object)[rows[ok]]
            out[col.column] = pd.Series(values, index=out.index, dtype=object)
            continue
        if col.treatment == "drop" or col.spec is None:
            out[col.column] = pd.Series([None] * n, index=out.index, dtype=object)
            continue
        locales = None
        if col.locale_column and col.locale_column in out:
            locales = locale_for_country(out[col.locale_column])
        first = last = None
        if col.names and all(c in out for c in col.names):
            first, last = out[col.names[0]], out[col.names[1]]
        real = (avoid or {}).get(col.column) if col.avoids_real else None
        unique = col.spec.unique and seen is not None
        if unique and seen.get(col.column):
            earlier = pd.Series(list(seen[col.column]), dtype=object)
            real = earlier if real is None else pd.concat([real.astype(object), earlier])
        if col.treatment == "mask" and col.domains:
            values = fake_values(col.spec, n, rng, locales=locales)
            values = _with_domains(values, col.domains, rng)
            if real is not None:  # redraw the few that meet a real value
                clash = values.isin(set(real.astype(str))).to_numpy()
                for _ in range(12):
                    if not clash.any():
                        break
                    redo = fake_values(col.spec, int(clash.sum()), rng)
                    values[clash] = _with_domains(redo, col.domains, rng).to_numpy()
                    clash = values.isin(set(real.astype(str))).to_numpy()
        else:
            values = fake_values(
                col.spec, n, rng, locales=locales, first=first, last=last, avoid=real
            )
        if unique:
            seen.setdefault(col.column, set()).update(values.dropna().astype(str))
        out[col.column] = values.set_axis(out.index)


def _with_domains(local: pd.Series, domains: tuple[tuple[str, float], ...], rng) -> pd.Series:
    present = local.notna().to_numpy()
    weights = np.array([w for _, w in domains], dtype=np.float64)
    picked = np.array([d for d, _ in domains], dtype=object)[
        rng.choice(len(domains), size=int(present.sum()), p=weights / weights.sum())
    ]
    out = local.to_numpy(dtype=object).copy()
    out[present] = out[present].astype(str) + "@" + picked.astype(str)
    return pd.Series(out, dtype=object)
