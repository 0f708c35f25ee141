"""Privacy on a project with people's data: integration_tests/people.

The people project holds customers, employees and invoices with names, e-mails, phones,
addresses, birth dates, SSNs, IBANs and card numbers, and a country lookup copied as it is
(``synthohive_mode: copy``). With default settings:

- ``fit --model copula`` and ``generate --privacy-gate`` on DuckDB and on Postgres write
  synthetic tables that hold no real value of a personal column, whose made-up values have
  valid forms (e-mail, IBAN mod-97, Luhn, SSN, phone forms), whose invoices repeat their
  synthetic customer's e-mail and reference existing rows, and whose copied lookup equals
  the real one; the generated source tests pass, ``no_real_value_copied`` (tag
  ``synthohive_privacy``) among them, and ``privacy.json`` and the printed summary cover the
  three synthesized tables;
- the artifacts (JSON and ``.npz``, CTGAN's too) hold no real personal value and no real
  text value seen in fewer than ``min_category_rows`` (5) rows;
- a real e-mail planted in a synthetic table fails ``no_real_value_copied``;
- wrong privacy settings are all reported in one error before anything is written;
- ``--privacy-gate`` passes that copula fit (it copies no row and keeps no rare value).

The gate's failure is checked on a real case, not a stub: a table of 1,000 unique badge
codes fitted with ``min_category_rows: 1`` keeps every code as a category, so the copula
draws training codes back and every synthetic row equals a training row (about 600 unique
real rows reappear, all of them training rows where 90% is expected): the exact-match test
fails at every seed tried (0, 1, 2), and the table passes at the default 5. The same table
checks that a saved model fitted under other privacy settings (min_category_rows,
holdout_share) is refitted, not reused.

Each warehouse is fitted once (module-scoped fixtures); the copula fits in seconds, CTGAN
(artifact scan only) runs 5 epochs. Each project copy gets its own profiles.yml with the
DuckDB file or Postgres schema written in, so fixtures alive together never share a
location through environment variables.
"""

from __future__ import annotations

import io
import json
import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from html import escape
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from helpers import PG, dbt, people_raw, synthohive

pytestmark = [pytest.mark.integration, pytest.mark.slow]

K = 5  # the default min_category_rows
SYNTHESIZED = ("customers", "employees", "invoices")
# personal columns whose made-up values must never equal a real value of that column
FAKED = {
    "customers": ("email", "phone", "street_address"),
    "employees": ("full_name", "work_email", "mobile", "ssn"),
    "invoices": ("customer_email", "billing_iban", "card_number"),
}
# personal columns whose real values may repeat by chance in made-up values (common first
# names, postal codes, dates) but must never be stored in an artifact
NAMES = {"customers": ("first_name", "last_name", "postal_code", "birth_date")}
EMAILS = {"customers": "email", "employees": "work_email", "invoices": "customer_email"}
EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
IBAN = re.compile(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}")
CARD = re.compile(r"[0-9]{13,19}")
SSN = re.compile(r"[0-9]{3}-[0-9]{2}-[0-9]{4}")
DUCKDB_PATH = "\"{{ env_var('SYNTHOHIVE_PEOPLE_DUCKDB', 'target/people.duckdb') }}\""
PG_SCHEMA = "\"{{ env_var('SYNTHOHIVE_PEOPLE_PG_SCHEMA', 'people') }}\""


@dataclass(frozen=True)
class Generated:
    """A copy of the people project with real raw data, fitted with the copula and
    generated into ``schema`` of ``target``."""

    project: Path
    target: str
    schema: str  # the synthetic tables
    raw_schema: str  # the real tables
    real: dict[str, pd.DataFrame]  # what load_raw wrote
    output: str  # what `synthohive generate --privacy-gate` printed
    gate_code: int  # and its exit code
    duckdb: Path | None = None

    @property
    def artifacts(self) -> Path:
        return self.project / "target" / "synthohive"

    def read(self, schema: str, table: str) -> pd.DataFrame:
        """A whole table, through a connection closed before returning (DuckDB admits one
        writer: dbt and synthohive must find the file free)."""
        sql = f"select * from {schema}.{table}"
        if self.duckdb is not None:
            import duckdb

            con = duckdb.connect(str(self.duckdb))
            try:
                return con.execute(sql).df()
            finally:
                con.close()
        import psycopg2

        conn = psycopg2.connect(**PG)
        try:
            with conn.cursor() as cur:
                cur.execute(sql)
                names = [d[0] for d in cur.description]
                return pd.DataFrame(cur.fetchall(), columns=names)
        finally:
            conn.close()

    def synthetic(self, table: str) -> pd.DataFrame:
        return self.read(self.schema, table)


# -- building ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def prepare(dbt_project) -> Callable[..., Path]:
    """``prepare(tmp, duckdb=..., pg_schema=...)``: a copy of the people project in
    ``tmp``, its packages installed, whose profile names ``duckdb`` (the DuckDB file) or
    ``pg_schema`` (the Postgres target schema; raw tables in ``<pg_schema>_raw``)."""

    def make(tmp: Path, *, duckdb: Path | None = None, pg_schema: str = "") -> Path:
        project = dbt_project(tmp, "people")
        profiles = project / "profiles.yml"
        text = profiles.read_text()
        assert DUCKDB_PATH in text and PG_SCHEMA in text, "people/profiles.yml changed"
        text = text.replace(DUCKDB_PATH, json.dumps(str(duckdb or tmp / "unused.duckdb")))
        profiles.write_text(text.replace(PG_SCHEMA, json.dumps(pg_schema or "unused")))
        return project

    return make


def run_cli(project: Path, *args: str, target: str) -> tuple[int, str]:
    """``synthohive ARGS`` in-process: (exit code, stdout and stderr together)."""
    out = io.StringIO()
    with redirect_stdout(out), redirect_stderr(out):
        code = synthohive(project, *args, target=target)
    return code, out.getvalue()


def fit_and_generate(
    project: Path, target: str, schema: str, raw_schema: str, real, duckdb: Path | None = None
) -> Generated:
    code, output = run_cli(project, "fit", "--model", "copula", target=target)
    assert code == 0, output
    # the gate's verdict is a test of its own: a failed gate still writes every table
    args = ("generate", "--schema", schema, "--privacy-gate")
    code, output = run_cli(project, *args, target=target)
    assert code in (0, 1), output
    assert (project / "models" / "synthohive" / "_synthohive__sources.yml").is_file(), output
    return Generated(project, target, schema, raw_schema, real, output, code, duckdb)


@pytest.fixture(scope="module")
def generated_duckdb(tmp_path_factory, prepare) -> Generated:
    raw = people_raw()
    tmp = tmp_path_factory.mktemp("people_duckdb")
    path = tmp / "people.duckdb"
    real = raw.make_raw()
    raw.write_duckdb(path, "main_raw", real)
    project = prepare(tmp, duckdb=path)
    return fit_and_generate(project, "duckdb", "synthohive", "main_raw", real, duckdb=path)


@pytest.fixture(scope="module")
def generated_postgres(tmp_path_factory, prepare, postgres_server) -> Iterator[Generated]:
    import psycopg2

    raw = people_raw()
    tmp = tmp_path_factory.mktemp("people_postgres")
    base = f"people_{uuid.uuid4().hex[:8]}"
    schemas = [base, f"{base}_raw", f"{base}_synth"]
    try:
        real = raw.make_raw()
        raw.write_postgres(f"{base}_raw", real)
        project = prepare(tmp, pg_schema=base)
        yield fit_and_generate(project, "postgres", f"{base}_synth", f"{base}_raw", real)
    finally:
        conn = psycopg2.connect(**postgres_server)
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                for schema in schemas:
                    cur.execute(f"drop schema if exists {schema} cascade")
        finally:
            conn.close()


def fit_people(tmp_path_factory, prepare, *args: str) -> Path:
    """The artifacts of ``synthohive fit *args`` on the people data in DuckDB."""
    raw = people_raw()
    tmp = tmp_path_factory.mktemp("people_fit")
    path = tmp / "people.duckdb"
    raw.write_duckdb(path, "main_raw", raw.make_raw())
    project = prepare(tmp, duckdb=path)
    code, output = run_cli(project, "fit", *args, target="duckdb")
    assert code == 0, output
    return project / "target" / "synthohive"


@pytest.fixture(scope="module")
def fitted_ctgan(tmp_path_factory, prepare, one_thread) -> Path:
    """CTGAN (5 epochs) on one torch thread (one thread fits in seconds, two took 90 s
    under load)."""
    return fit_people(tmp_path_factory, prepare, "--model", "ctgan", "--epochs", "5")


@pytest.fixture(scope="module")
def fitted_default(tmp_path_factory, prepare, one_thread) -> Path:
    """The default model (autoregressive) with its default settings."""
    return fit_people(tmp_path_factory, prepare)


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def generated(request) -> Generated:
    return request.getfixturevalue(f"generated_{request.param}")


# -- checks ------------------------------------------------------------------------------


def strings(column: pd.Series) -> set[str]:
    return set(column.dropna().astype(str))


def iban_valid(iban: str) -> bool:
    """ISO 13616: the first four characters moved to the end, letters as 10..35, mod 97
    is 1."""
    moved = iban[4:] + iban[:4]
    return int("".join(str(int(c, 36)) for c in moved)) % 97 == 1


def luhn_valid(number: str) -> bool:
    digits = [int(d) for d in reversed(number)]
    doubled = [d * 2 - 9 if d * 2 > 9 else d * 2 for d in digits[1::2]]
    return (sum(digits[0::2]) + sum(doubled)) % 10 == 0


def phone_pattern() -> re.Pattern:
    """The four countries' phone forms of load_raw ("+1 (###) ###-####", ...)."""
    forms = people_raw().PHONE_FORMS.values()
    return re.compile(
        "|".join(re.escape(f).replace("\\#", "#").replace("#", "[0-9]") for f in forms)
    )


def invalid(values: pd.Series, valid) -> list[str]:
    """The non-null ``values`` that ``valid`` (a pattern or a predicate) rejects; fails
    when there are none to check."""
    present = values.dropna().astype(str)
    assert len(present), "no values to check"
    check = valid.fullmatch if isinstance(valid, re.Pattern) else valid
    return [v for v in present if not check(v)]


def test_no_real_personal_value_in_synthetic_tables(generated):
    copied = {}
    for table, columns in FAKED.items():
        synthetic = generated.synthetic(table)
        for column in columns:
            real = strings(generated.real[table][column])
            found = strings(synthetic[column]) & real
            if found:
                copied[f"{table}.{column}"] = len(found)
    assert not copied, f"real values in synthetic tables (distinct values per column): {copied}"


def test_personal_values_have_valid_forms(generated):
    customers = generated.synthetic("customers")
    employees = generated.synthetic("employees")
    invoices = generated.synthetic("invoices")
    frames = {"customers": customers, "employees": employees, "invoices": invoices}
    phone = phone_pattern()
    problems = {
        **{f"{t}.{c}": invalid(frames[t][c], EMAIL) for t, c in EMAILS.items()},
        "customers.phone": invalid(customers["phone"], phone),
        "employees.mobile": invalid(employees["mobile"], phone),
        "employees.ssn": invalid(employees["ssn"], SSN),
        "invoices.billing_iban": invalid(
            invoices["billing_iban"], lambda v: bool(IBAN.fullmatch(v)) and iban_valid(v)
        ),
        "invoices.card_number": invalid(
            invoices["card_number"], lambda v: bool(CARD.fullmatch(v)) and luhn_valid(v)
        ),
    }
    problems = {k: v[:5] for k, v in problems.items() if v}
    assert not problems, f"invalid made-up values (first five per column): {problems}"


def test_emails_are_built_from_the_made_up_names(generated):
    """Real customer e-mails are first.last@ or firstlast@: the fakes follow the fake names."""
    import unicodedata

    def fold(text: str) -> str:
        return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()

    customers = generated.synthetic("customers")[["first_name", "last_name", "email"]]
    built = [
        email.lower().startswith(fold(first)) and fold(last).replace(" ", "") in email.lower()
        for first, last, email in customers.itertuples(index=False)
    ]
    assert sum(built) / len(built) >= 0.9


def test_invoices_repeat_their_synthetic_customers_email(generated):
    customers = generated.synthetic("customers")[["customer_id", "email"]]
    invoices = generated.synthetic("invoices")[["invoice_id", "customer_id", "customer_email"]]
    joined = invoices.merge(customers, on="customer_id", how="inner", validate="many_to_one")
    assert len(joined) == len(invoices) > 0
    differ = joined[joined["customer_email"] != joined["email"]]
    assert differ.empty, f"{len(differ)} invoices name another e-mail than their customer's"


def test_no_orphans(generated):
    customers = generated.synthetic("customers")
    invoices = generated.synthetic("invoices")
    employees = generated.synthetic("employees")
    orphan_invoices = ~invoices["customer_id"].isin(customers["customer_id"])
    managers = employees["manager_id"].dropna()
    orphan_employees = ~managers.isin(employees["employee_id"])
    assert (int(orphan_invoices.sum()), int(orphan_employees.sum())) == (0, 0)
    assert len(invoices) and len(managers)


def test_copied_countries_equal_the_real_table(generated):
    def rows(schema: str) -> pd.DataFrame:
        frame = generated.read(schema, "countries")
        return frame.sort_values("country_code", ignore_index=True)

    pd.testing.assert_frame_equal(rows(generated.schema), rows(generated.raw_schema))


def test_generated_source_tests_pass(generated):
    result = dbt(
        generated.project, "test", "--select", "source:synthohive", target=generated.target
    )
    assert result.result is not None, result.exception
    failed = {r.node.name: r.message for r in result.result if str(r.status) != "pass"}
    assert result.success and len(result.result) and not failed, failed

    tag = "tag:synthohive_privacy"
    result = dbt(generated.project, "test", "--select", tag, target=generated.target)
    assert result.result is not None, result.exception
    tested = {
        (next(table for source, table in r.node.sources if source == "synthohive"),
         r.node.column_name)
        for r in result.result
    }  # fmt: skip
    assert all(str(r.status) == "pass" for r in result.result), [
        (r.node.name, str(r.status)) for r in result.result
    ]
    assert len(result.result) >= 8
    expected = {(t, c) for t, columns in FAKED.items() for c in columns}
    assert expected <= tested, f"no privacy test on {sorted(expected - tested)}"


def test_privacy_report_and_summary(generated):
    report = json.loads((generated.artifacts / "privacy.json").read_text())
    assert report["format_version"] == 1
    assert set(report["tables"]) == set(SYNTHESIZED)  # countries is copied: not measured
    output = generated.output
    assert "privacy (synthetic rows vs training rows and the holdout no model saw):" in output
    for table in SYNTHESIZED:
        assert re.search(rf"^  {table}: DCR share [0-9.]+ \(ideal 0\.5\)", output, re.M), output
    assert f"privacy metrics: {generated.artifacts / 'privacy.json'}" in output


def test_privacy_gate_passes_a_fit_that_does_not_memorise(generated):
    """The copula with the default min_category_rows keeps no rare value and copies no
    row: the holdout check must not fail it."""
    report = json.loads((generated.artifacts / "privacy.json").read_text())
    failed = {
        table: (round(m["dcr_share"], 3), round(m["margin"], 3), m["reasons"])
        for table, m in report["tables"].items()
        if not m["passed"]
    }
    assert generated.gate_code == 0 and not failed, failed


# -- artifacts ---------------------------------------------------------------------------


def collect(value, found: set[str]) -> None:
    """Every string in a JSON value (keys included); a string that holds JSON itself (a
    personal column's ``spec``) is searched too."""
    if isinstance(value, str):
        found.add(value)
        if value.lstrip()[:1] in ("{", "["):
            try:
                collect(json.loads(value), found)
            except ValueError:
                pass
    elif isinstance(value, dict):
        for key, item in value.items():
            collect(key, found)
            collect(item, found)
    elif isinstance(value, list):
        for item in value:
            collect(item, found)


def array_strings(array: np.ndarray) -> list[str]:
    if array.dtype.kind == "U":
        return [str(v) for v in array.ravel()]
    if array.dtype.kind == "S":
        return [bytes(v).decode("utf-8", "replace") for v in array.ravel()]
    return []


def artifact_strings(root: Path) -> set[str]:
    """Every string in every file under ``root`` (JSON documents and numpy arrays,
    loaded without pickle). Any other kind of file fails: it would go unsearched."""
    found: set[str] = set()
    files = sorted(p for p in root.rglob("*") if p.is_file())
    assert files, f"no artifacts under {root}"
    for path in files:
        if path.suffix == ".npz":
            with np.load(path, allow_pickle=False) as data:
                for name in data.files:
                    found.add(name)
                    collect(array_strings(data[name]), found)
        elif path.suffix == ".npy":
            collect(array_strings(np.load(path, allow_pickle=False)), found)
        elif path.suffix == ".json":
            collect(json.loads(path.read_text()), found)
        else:
            pytest.fail(f"{path}: an artifact this test cannot search")
    return found


def as_text(column: pd.Series) -> pd.Series:
    column = column.dropna()
    if pd.api.types.is_datetime64_any_dtype(column.dtype):
        return column.dt.strftime("%Y-%m-%d")
    return column.astype(str)


def forbidden_values(real: dict[str, pd.DataFrame]) -> dict[str, set[str]]:
    """Per column: every real value of the personal columns, and the real values of any
    text column seen in fewer than K rows."""
    types = people_raw().TYPES
    out: dict[str, set[str]] = {}
    for table in SYNTHESIZED:
        frame = real[table]
        for column in (*FAKED.get(table, ()), *NAMES.get(table, ())):
            out[f"{table}.{column}"] = set(as_text(frame[column]))
        for column, kind in types[table].items():
            if kind == "text":
                counts = as_text(frame[column]).value_counts()
                rare = set(counts.index[counts < K])
                out[f"{table}.{column}"] = out.get(f"{table}.{column}", set()) | rare
    return out


@pytest.fixture(
    params=[
        "generated_duckdb",
        pytest.param("generated_postgres", marks=pytest.mark.postgres),
        "fitted_ctgan",
        "fitted_default",
    ]
)
def artifacts(request) -> Path:
    value = request.getfixturevalue(request.param)
    return value.artifacts if isinstance(value, Generated) else value


def test_artifacts_hold_no_real_personal_or_rare_value(artifacts):
    stored = artifact_strings(artifacts)
    forbidden = forbidden_values(people_raw().make_raw())
    assert len(forbidden["customers.city"]) > 100  # the check has rare values to look for
    leaked = {name: sorted(values & stored)[:5] for name, values in forbidden.items()}
    leaked = {name: values for name, values in leaked.items() if values}
    assert not leaked, f"real values stored in {artifacts} (first five per column): {leaked}"


def test_quality_report_shows_no_real_personal_or_rare_value(generated):
    """`synthohive report` on the people data: no real value of a personal column and no
    rare real text value in the HTML or the JSON (charts label common values only)."""
    code, output = run_cli(
        generated.project,
        "report",
        "--schema",
        generated.schema,
        "--quiet",
        target=generated.target,
    )
    assert code == 0, output
    folder = generated.project / "target" / "synthohive"
    report = json.loads((folder / "report.json").read_text())
    shown: set[str] = set()
    collect_json_strings(report, shown)
    html = (folder / "report.html").read_text()
    forbidden = forbidden_values(generated.real)
    assert len(forbidden["customers.city"]) > 100  # the check has rare values to look for
    leaked = {
        name: sorted(v for v in values if v in shown or (len(v) >= 4 and escape(v) in html))[:5]
        for name, values in forbidden.items()
    }
    leaked = {name: values for name, values in leaked.items() if values}
    assert not leaked, f"real values in the report (first five per column): {leaked}"
    # and it is a real report: common categories are labelled in the charts
    tables = {t["name"]: t for t in report["tables"]}
    assert {"customers", "employees", "invoices"} <= set(tables)


def collect_json_strings(value, out: set[str]) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            out.add(str(k))
            collect_json_strings(v, out)
    elif isinstance(value, list):
        for v in value:
            collect_json_strings(v, out)
    elif isinstance(value, str):
        out.add(value)


# -- a planted real value ----------------------------------------------------------------


def test_planted_real_email_fails_no_real_value_copied(generated_duckdb):
    import duckdb

    gen = generated_duckdb
    real_email = str(gen.real["customers"]["email"].iloc[0])
    table = f"{gen.schema}.customers"
    con = duckdb.connect(str(gen.duckdb))
    try:
        customer_id, original = con.execute(
            f"select customer_id, email from {table} order by customer_id limit 1"
        ).fetchone()
        con.execute(
            f"update {table} set email = ? where customer_id = ?", [real_email, customer_id]
        )
    finally:
        con.close()
    try:
        select = "source:synthohive.customers,tag:synthohive_privacy"
        result = dbt(gen.project, "test", "--select", select, target=gen.target)
        assert result.result is not None, result.exception
        status = {r.node.column_name: str(r.status) for r in result.result}
        messages = " ".join(r.message or "" for r in result.result)
    finally:
        con = duckdb.connect(str(gen.duckdb))
        try:
            con.execute(
                f"update {table} set email = ? where customer_id = ?", [original, customer_id]
            )
        finally:
            con.close()
    assert not result.success
    assert status == {"email": "fail", "phone": "pass", "street_address": "pass"}
    assert real_email not in messages  # a failure reports a count, never the value


# -- settings checked before anything runs -----------------------------------------------


def set_meta(entry: dict, key: str, value) -> None:
    entry.setdefault("config", {}).setdefault("meta", {})[key] = value


def test_wrong_privacy_settings_are_reported_together_before_anything_is_written(
    tmp_path, monkeypatch, capsys, prepare
):
    import duckdb

    monkeypatch.delenv("SYNTHOHIVE_HMAC_KEY", raising=False)
    raw = people_raw()
    path = tmp_path / "people.duckdb"
    raw.write_duckdb(path, "main_raw", raw.make_raw())
    project = prepare(tmp_path, duckdb=path)
    sources = project / "models" / "staging" / "__sources.yml"
    doc = yaml.safe_load(sources.read_text())
    tables = {t["name"]: t for t in doc["sources"][0]["tables"]}
    columns = {name: {c["name"]: c for c in t["columns"]} for name, t in tables.items()}
    set_meta(columns["customers"]["first_name"], "synthohive_pii", "sometimes")
    set_meta(columns["customers"]["phone"], "synthohive_pii", "hash")
    set_meta(columns["customers"]["customer_id"], "synthohive_pii", "fake")
    set_meta(tables["invoices"], "synthohive_mode", "copy")
    sources.write_text(yaml.safe_dump(doc, sort_keys=False))
    capsys.readouterr()

    k0 = "{synthohive: {privacy: {min_category_rows: 0}}}"
    code = synthohive(project, "fit", "--model", "copula", "--vars", k0, target="duckdb")

    captured = capsys.readouterr()
    error = captured.err
    assert code == 1, captured
    assert error.count("error:") == 1, error  # one error listing every problem
    expected = {
        "min_category_rows 0": ("min_category_rows is 0", "1 or more"),
        "unknown treatment": ("first_name", "'sometimes' is not a treatment"),
        "hash without a key": ("customers.phone", "SYNTHOHIVE_HMAC_KEY"),
        "pii on a key": ("customer_id", "key column"),
        "copied child of a synthesized table": ("invoices", "copy", "synthesized"),
    }
    missing = [name for name, words in expected.items() if not all(w in error for w in words)]
    assert not missing, f"not reported: {missing}\n{error}"
    assert not (project / "target" / "synthohive").exists()
    con = duckdb.connect(str(path))
    try:
        schemas = {
            r[0]
            for r in con.execute("select schema_name from information_schema.schemata").fetchall()
        }
    finally:
        con.close()
    assert "synthohive" not in schemas


# -- the privacy gate --------------------------------------------------------------------

BADGE_FIT = ("fit", "--model", "copula", "--select", "source:crm.badges")
GATED_GENERATE = ("generate", "--privacy-gate", "--no-yaml")


@pytest.fixture
def badges(tmp_path, prepare) -> tuple[Path, Path, set[str]]:
    """The people project plus ``crm.badges``: 1,000 rows of a key and a unique six-letter
    code, nothing personal. Returns (project, DuckDB file, the real codes)."""
    import duckdb

    raw = people_raw()
    path = tmp_path / "people.duckdb"
    raw.write_duckdb(path, "main_raw", raw.make_raw())
    rng = np.random.default_rng(3)
    letters = np.array(list("ABCDEFGHJKLMNPQRSTUVWXYZ"))
    codes = sorted({"".join(rng.choice(letters, 6)) for _ in range(1_100)})[:1_000]
    rows = pd.DataFrame({"badge_id": np.arange(1, 1_001), "code": codes})
    con = duckdb.connect(str(path))
    try:
        con.register("badges", rows)
        con.execute("create table main_raw.badges as select * from badges")
    finally:
        con.close()
    project = prepare(tmp_path, duckdb=path)
    sources = project / "models" / "staging" / "__sources.yml"
    doc = yaml.safe_load(sources.read_text())
    key = {"name": "badge_id", "data_tests": ["unique", "not_null"]}
    doc["sources"][0]["tables"].append({"name": "badges", "columns": [key, {"name": "code"}]})
    sources.write_text(yaml.safe_dump(doc, sort_keys=False))
    return project, path, set(codes)


def test_privacy_gate_fails_a_memorising_fit(badges):
    """With min_category_rows 1 every code is kept and drawn back: each synthetic row
    equals a training row, and the gate exits 1 with the tables written."""
    import duckdb

    project, path, _ = badges
    k1 = "{synthohive: {privacy: {min_category_rows: 1}}}"
    code, output = run_cli(project, *BADGE_FIT, "--vars", k1, target="duckdb")
    assert code == 0, output
    code, output = run_cli(project, *GATED_GENERATE, target="duckdb")
    assert code == 1, output
    assert "error: privacy gate: badges failed the holdout check" in output
    assert "the synthetic tables are written" in output
    report = json.loads((project / "target" / "synthohive" / "privacy.json").read_text())
    checked = report["tables"]["badges"]
    assert not checked["passed"]
    assert checked["unique_matches"] >= 100
    assert checked["unique_matches_training_share"] == 1.0
    assert any("are training rows" in reason for reason in checked["reasons"])
    con = duckdb.connect(str(path))
    try:
        assert con.execute("select count(*) from synthohive.badges").fetchone() == (1_000,)
    finally:
        con.close()


def test_privacy_gate_passes_the_same_table_at_the_default_min_category_rows(badges):
    """With the default 5 every code is rare: none is stored, the codes decode to new
    strings and no synthetic row equals a real one."""
    project, _, _ = badges
    code, output = run_cli(project, *BADGE_FIT, target="duckdb")
    assert code == 0, output
    code, output = run_cli(project, *GATED_GENERATE, target="duckdb")
    assert code == 0, output
    report = json.loads((project / "target" / "synthohive" / "privacy.json").read_text())
    assert report["tables"]["badges"]["passed"]
    assert report["tables"]["badges"]["exact_match_training"] == 0.0


@pytest.mark.parametrize(
    "before",
    [
        "{synthohive: {privacy: {min_category_rows: 1}}}",
        "{synthohive: {privacy: {holdout_share: 0.3}}}",
    ],
    ids=["min_category_rows", "holdout_share"],
)
def test_changed_privacy_settings_refit_the_table(badges, before):
    """A saved model fitted under other privacy settings is not reused: one fitted with
    min_category_rows 1 holds every code, one fitted with another holdout trained on rows
    that generate now takes for holdout rows."""
    project, _, codes = badges
    code, output = run_cli(project, *BADGE_FIT, "--vars", before, target="duckdb")
    assert code == 0, output
    code, output = run_cli(project, *BADGE_FIT, target="duckdb")  # the defaults
    assert code == 0, output
    stored = artifact_strings(project / "target" / "synthohive") & codes
    assert "trained: badges" in output and not stored, (
        f"{len(stored)} real codes, each in one row, still stored\n{output}"
    )
