"""Keys and tests declared on models, traced back to the source columns they select."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from synthohive_dbt.api import schema_graph
from synthohive_dbt.project.load import compile_models, load_project
from synthohive_dbt.schema.inspect_view import graph_to_json, graph_to_text
from synthohive_dbt.schema.lineage import Lineage, SelectLineage
from synthohive_dbt.schema.manifest import build_graph
from synthohive_dbt.schema.model_sql import Unreadable

FIXTURES = Path(__file__).parent / "fixtures" / "projects"
APP = "source.staging.app."
MODEL = "model.staging."
IGNORE = shutil.ignore_patterns("target", "dbt_packages", "logs", "*.duckdb", "package-lock.yml")


def source_of(sql: str, column: str, dialect: str = "duckdb", **tables: list[str]):
    select = SelectLineage.parse(sql, dialect, table_columns=tables.get)
    return select.source_of(column)


# -- one SELECT --------------------------------------------------------------------------

STAGING_SQL = """
with source as (select * from raw_customers),
renamed as (
    select
        id as customer_id,
        cast(age as integer) as age_years,
        score::int as score,
        try_cast(code as int) as code,
        (email) as email,
        upper(full_name) as customer_name,
        coalesce(region, 'eu') as region,
        1 as one
    from source
)
select * from renamed
"""


@pytest.mark.parametrize(
    ("column", "expected"),
    [
        ("customer_id", ("raw_customers", "id")),
        ("age_years", ("raw_customers", "age")),
        ("score", ("raw_customers", "score")),
        ("code", ("raw_customers", "code")),
        ("EMAIL", ("raw_customers", "email")),
        ("customer_name", None),
        ("region", None),
        ("one", None),
        ("not_selected", None),
    ],
)
def test_renames_and_casts_trace_through_ctes_expressions_do_not(column, expected):
    assert source_of(STAGING_SQL, column) == expected


def test_select_star_expands_known_columns_and_passes_unknown_names_through():
    unknown = SelectLineage.parse("select * from (select * from raw) as s", "duckdb")
    assert unknown.columns is None
    assert unknown.source_of("anything") == ("raw", "anything")
    known = SelectLineage.parse("select * from raw", "duckdb", table_columns={"raw": ["a"]}.get)
    assert known.columns == ("a",)


def test_bare_columns_of_a_join_belong_to_the_input_that_has_them():
    sql = "select o.id as order_id, name, status from orders o join customers c on o.c = c.id"
    assert source_of(sql, "order_id") == ("orders", "id")
    assert source_of(sql, "name", customers=["id", "name"]) == ("customers", "name")
    # customers is known not to have status: it can only come from orders
    assert source_of(sql, "status", customers=["id", "name"]) == ("orders", "status")
    assert source_of(sql, "name") is None  # two inputs of unknown columns: ambiguous
    star = "select * from orders o join customers c on o.c = c.id"
    assert source_of(star, "name", customers=["id", "name"]) is None  # orders may have it too
    assert source_of(star, "name", customers=["id", "name"], orders=["c"]) == (
        "customers",
        "name",
    )
    assert source_of("select o.* from orders o join c on o.c = c.id", "x") == ("orders", "x")


def test_union_does_not_trace():
    assert source_of("select id from a union all select id from b", "id") is None
    select = SelectLineage.parse("select id from a union all select id from b", "duckdb")
    assert "set operation" in select.explain("id")


SURROGATE_SQL = """
with source as (select * from raw_supplies),
renamed as (
    select
        md5(cast(coalesce(cast(id as text), '_null_') || '-' ||
            coalesce(cast(sku as text), '_null_') as text)) as supply_uuid,
        id as supply_id,
        cost * 100 as cost_cents
    from source
)
select * from renamed
"""


def test_scaled_and_null_preserving_columns_name_their_input():
    sql = """
    with source as (select * from raw_orders)
    select
        cast((subtotal) / 100.0 as numeric(16, 2)) as subtotal,
        2 * tax as tax_twice,
        date_trunc('day', ordered_at) as ordered_on,
        coalesce(discount, 0) as discount,
        subtotal + tax as total
    from source
    """
    select = SelectLineage.parse(sql, "duckdb")
    assert select.transform_of("subtotal") == (("raw_orders", "subtotal"), 0.01)
    assert select.transform_of("tax_twice") == (("raw_orders", "tax"), 2.0)
    assert select.transform_of("ordered_on") == (("raw_orders", "ordered_at"), None)
    assert select.transform_of("discount") is None  # coalesce fills NULLs
    assert select.transform_of("total") is None  # two columns


def test_a_surrogate_key_names_the_columns_it_hashes():
    select = SelectLineage.parse(SURROGATE_SQL, "duckdb")
    assert select.source_of("supply_uuid") is None
    assert select.inputs_of("supply_uuid") == [("raw_supplies", "id"), ("raw_supplies", "sku")]
    assert select.inputs_of("cost_cents") is None  # arithmetic is not a combination
    assert select.inputs_of("supply_id") is None
    assert select.explain("cost_cents") == "cost_cents is computed (cost * 100)"
    window = SelectLineage.parse("select row_number() over () as n from t", "duckdb")
    assert window.explain("n") == "n is computed by a window function"


@pytest.mark.parametrize(
    ("sql", "reshapes"),
    [
        ("select id from t where amount > 0", False),
        ("select t.id from t join u on t.id = u.t_id", False),
        ("select customer_id, count(*) as n from t group by 1", True),
        ("select distinct id from t", True),
        ("select id from t qualify row_number() over (partition by id order by ts) = 1", True),
        (
            "select * from (select *, row_number() over (partition by id) as rn from t) "
            "where rn = 1",
            True,
        ),
        ("select id from t limit 10", True),
        ("select id, row_number() over (order by id) as n from t", False),
        ("select id, sum(x) over (partition by id) as running from t", False),
        ("select max(id) as top, count(*) as n, id from t", True),
    ],
)
def test_grouping_and_deduplication_reshape_rows(sql, reshapes):
    select = SelectLineage.parse(sql, "duckdb")
    assert select.reshapes is reshapes
    assert select.source_of("id" if "customer_id" not in sql else "customer_id") is not None


def test_only_the_parts_a_column_passes_through_reshape_it():
    sql = (
        "select l.id, r.revenue, row_number() over (order by l.id) as rank "
        "from locations as l left join "
        "(select location_id, sum(amount) as revenue from orders group by 1) as r "
        "on l.id = r.location_id"
    )
    select = SelectLineage.parse(sql, "duckdb")
    assert select.reshapes  # the joined subquery groups
    assert select.reshaping_of("id") == ()  # locations' rows pass unchanged
    assert select.reshaping_of("revenue") == ("group by", "an aggregate")
    filtered = (
        "select * from (select *, row_number() over (partition by id) as rn from t) where rn = 1"
    )
    assert SelectLineage.parse(filtered, "duckdb").reshaping_of("id") == (
        "a filter on a window function",
    )


@pytest.mark.parametrize(
    ("dialect", "sql", "expected"),
    [
        ("postgres", "select id::integer as customer_id from raw", ("raw", "id")),
        ("snowflake", "select ID as CUSTOMER_ID from RAW", ("RAW", "ID")),
        ("bigquery", "select safe_cast(id as int64) as customer_id from `p.d.raw`", ("raw", "id")),
    ],
)
def test_dialects(dialect, sql, expected):
    assert source_of(sql, "customer_id", dialect) == expected


def test_sql_that_does_not_parse_is_unreadable():
    with pytest.raises(Unreadable, match="cannot parse"):
        SelectLineage.parse("select id as from from t where", "duckdb")
    with pytest.raises(Unreadable, match="2 SQL statements"):
        SelectLineage.parse("select 1; select 2", "duckdb")


# -- a project whose sources declare nothing, its staging models everything ---------------


@pytest.fixture(scope="module")
def projects(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("lineage")
    shutil.copytree(FIXTURES / "staging", root / "staging", ignore=IGNORE)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SYNTHOHIVE_TEST_DUCKDB", str(root / "warehouse.duckdb"))
        mp.delenv("DBT_PROFILES_DIR", raising=False)
        yield root


@pytest.fixture(scope="module")
def staging(projects):
    return load_project(projects / "staging")


@pytest.fixture(scope="module")
def graph(staging):
    return schema_graph(staging)  # compiles the models built on the sources


def only_fk(graph, child, columns):
    (fk,) = [fk for fk in graph.foreign_keys if fk.child == child and fk.columns == columns]
    return fk


def test_default_selection_is_the_sources(staging):
    assert staging.selected == tuple(
        APP + t for t in ("customers", "orders", "payments", "refunds")
    )


def test_primary_keys_traced_from_unique_and_not_null_tests(graph):
    pk = graph.table(APP + "customers").primary_key
    assert pk.columns == ("id",)
    assert pk.origin.kind == "unique test + not_null"
    assert pk.origin.node.startswith("test.staging.unique_stg_customers_customer_id")
    assert pk.origin.via == MODEL + "stg_customers"
    # cast(id as integer) as order_id
    orders = graph.table(APP + "orders").primary_key
    assert orders.columns == ("id",) and orders.origin.via == MODEL + "stg_orders"


def test_primary_key_constraint_traced_through_select_star(graph):
    pk = graph.table(APP + "payments").primary_key
    assert pk.columns == ("id",)
    assert pk.origin.kind == "primary_key constraint"
    assert pk.origin.node == pk.origin.via == MODEL + "stg_payments"


def test_relationships_test_traced_to_a_source_foreign_key(graph):
    fk = only_fk(graph, APP + "orders", ("user_id",))  # user_id::integer as customer_id
    assert fk.parent == APP + "customers" and fk.parent_columns == ("id",)
    assert fk.origin.kind == "relationships test"
    assert fk.origin.node.startswith("test.staging.relationships_stg_orders_customer_id")
    assert fk.origin.via == MODEL + "stg_orders"
    assert fk.nullable is False  # the not_null test on stg_orders.customer_id carried over
    payments = only_fk(graph, APP + "payments", ("order_id",))
    assert payments.parent == APP + "orders" and payments.parent_columns == ("id",)


def test_conditional_key_through_a_chain_of_models_rewrites_its_condition(graph):
    fk = only_fk(graph, APP + "orders", ("gifted_to",))  # int_orders <- stg_orders
    assert fk.parent == APP + "customers"
    assert fk.where == "status = 'shipped'"  # was order_status = 'shipped' on int_orders
    assert fk.origin.via == MODEL + "int_orders"


def test_column_facts_carry_over_but_not_through_expressions(graph):
    customers, orders = graph.table(APP + "customers"), graph.table(APP + "orders")
    assert customers.column("email").not_null
    assert customers.column("email").meta["synthohive_pii"] == "email"
    # NULL-preserving functions of one column carry not_null: upper(full_name), amount * 100
    assert customers.column("full_name").not_null
    assert orders.column("amount").not_null
    assert orders.column("status").accepted_values == ("placed", "shipped", "returned")
    # a grouping model's count(*) is nothing of its source's
    assert graph.table(APP + "orders").column("order_count") is None
    # a bare column of a join (order_payments.amount) belongs to stg_payments
    assert graph.table(APP + "payments").column("amount").not_null


def test_expression_tests_are_rewritten_on_the_source_columns(graph):
    # int_orders: customer_id <> gift_customer_id, through stg_orders' renames
    assert graph.table(APP + "orders").expressions == ("user_id <> gifted_to",)
    (mixed,) = [w for w in graph.warnings if w.startswith("ref('order_payments')")]
    assert "expression 'amount > customer_id'" in mixed
    assert "its columns come from different tables" in mixed


def test_expressions_and_ranges_carry_through_a_common_factor(staging, graph, monkeypatch):
    source = staging.manifest.sources[APP + "orders"]
    node = staging.manifest.nodes[MODEL + "int_orders"]
    compiled = (
        f"select id as order_id, user_id as customer_id, gifted_to as gift_customer_id, "
        f"status as order_status, amount / 100.0 as amount_dollars, "
        f"cast(amount / 100.0 as numeric(16, 2)) as amount_again from {source.relation_name}"
    )
    monkeypatch.setattr(node, "compiled_code", compiled)
    lineage = Lineage(staging.manifest)
    traced, factor = lineage.follow_scaled(node.unique_id, "amount_dollars")
    assert (traced.node, traced.column, factor) == (APP + "orders", "amount", 0.01)
    from synthohive_dbt.schema import Origin
    from synthohive_dbt.schema.facts import TableFacts
    from synthohive_dbt.schema.traced_facts import carry_facts

    declared = TableFacts(node.unique_id, node, "ref('int_orders')")
    declared.column("amount_dollars").accepted_range = (0.5, 20.0)
    for condition in ("amount_dollars = amount_again", "amount_dollars >= 1"):
        declared.add_expression(condition, Origin("expression_is_true test", "t"))
    targets = {APP + "orders": TableFacts(APP + "orders", source, "orders")}
    warnings: list[str] = []
    carry_facts(lineage, {node.unique_id: declared}, [], targets, [], warnings)
    assert targets[APP + "orders"].column("amount").accepted_range == (50.0, 2000.0)
    assert [c for c, _ in targets[APP + "orders"].expressions] == [
        "amount = amount",  # one factor cancels out of a comparison of columns
        "(amount * 0.01) >= 1",  # a number stays on its scale
    ]
    assert warnings == []


def test_uniqueness_does_not_carry_through_a_grouping_model(graph):
    orders = graph.table(APP + "orders")
    # customer_orders groups by customer_id and tests it unique; orders.user_id is not
    assert not orders.column("user_id").unique
    assert ("user_id",) not in orders.unique_keys


def test_project_macros_are_rendered_by_dbt(graph):
    # stg_refunds calls the project macro cents(): read as dbt compiled it
    pk = graph.table(APP + "refunds").primary_key
    assert pk.columns == ("id",) and pk.origin.via == MODEL + "stg_refunds"


def test_what_cannot_be_followed_is_a_warning_naming_model_and_reason(graph):
    (broken,) = [w for w in graph.warnings if "ref('stg_refunds_broken')" in w]
    assert "sqlglot cannot parse it" in broken
    (grouped,) = [w for w in graph.warnings if w.startswith("ref('customer_orders')")]
    assert "unique customer_id" in grouped and "group by" in grouped
    assert not [w for w in graph.warnings if w.startswith("ref('stg_orders')")]
    assert len(graph.warnings) == 3


def test_unique_surrogate_key_makes_its_columns_unique_together(staging, graph, monkeypatch):
    source = staging.manifest.sources[APP + "customers"]
    node = staging.manifest.nodes[MODEL + "stg_customers"]
    compiled = (
        f"with source as (select * from {source.relation_name}) "
        "select md5(cast(full_name as varchar) || '-' || cast(email as varchar)) "
        "as customer_id, email from source"
    )
    monkeypatch.setattr(node, "compiled_code", compiled)
    traced = build_graph(staging.manifest, staging.selected)
    pk = traced.table(APP + "customers").primary_key  # as unique_combination_of_columns
    assert pk.columns == ("full_name", "email")
    assert pk.origin.kind == "unique test" and pk.origin.via == MODEL + "stg_customers"


def test_a_model_dbt_cannot_compile_is_a_warning_with_dbts_message(staging):
    node = staging.manifest.nodes[MODEL + "stg_refunds"]
    failed = {node.unique_id: "Compilation Error: 'nope' is undefined"}
    lineage = Lineage(staging.manifest, failed)
    original = node.compiled_code
    try:
        node.compiled_code = None
        assert lineage.trace(node.unique_id, "refund_id") is None
        reason = lineage.follow(node.unique_id, "refund_id")
        assert "dbt could not compile it: Compilation Error: 'nope' is undefined" in reason
    finally:
        node.compiled_code = original


def test_nothing_is_traced_when_no_source_is_selected(staging):
    graph = build_graph(staging.manifest, [MODEL + "stg_orders", MODEL + "stg_customers"])
    assert [fk.origin.via for fk in graph.foreign_keys] == [None]
    assert not graph.warnings


def test_selected_models_keep_their_own_keys_and_sources_get_traced_ones(staging):
    graph = build_graph(staging.manifest, [*staging.selected, MODEL + "stg_orders"])
    assert graph.table(MODEL + "stg_orders").primary_key.origin.via is None
    assert graph.table(APP + "orders").primary_key.origin.via == MODEL + "stg_orders"


def test_compiled_code_is_preferred(staging, monkeypatch):
    source = staging.manifest.sources[APP + "customers"]
    node = staging.manifest.nodes[MODEL + "stg_customers"]
    # a CTE named like another model stays a CTE
    compiled = (
        f"with stg_orders as (select * from {source.relation_name} as c) "
        "select full_name as customer_id from stg_orders"
    )
    monkeypatch.setattr(node, "compiled_code", compiled)
    traced = Lineage(staging.manifest).trace(node.unique_id, "customer_id")
    assert (traced.node, traced.column) == (source.unique_id, "full_name")


def test_a_chain_of_models_is_followed(staging):
    traced = Lineage(staging.manifest).trace(MODEL + "int_orders", "gift_customer_id")
    assert (traced.node, traced.column) == (APP + "orders", "gifted_to")
    assert traced.via == (MODEL + "int_orders", MODEL + "stg_orders")
    assert not traced.reshaped
    grouped = Lineage(staging.manifest).trace(MODEL + "customer_orders", "customer_id")
    assert (grouped.column, grouped.reshaped) == ("user_id", True)


def test_compile_reports_models_dbt_cannot_compile(staging, monkeypatch):
    node = staging.manifest.nodes[MODEL + "stg_refunds"]
    monkeypatch.setattr(node, "raw_code", "select {{ no_such_macro('x') }} as refund_id")
    monkeypatch.setattr(node, "compiled_code", None)
    failed = compile_models(staging, [node.unique_id])
    assert list(failed) == [node.unique_id]
    assert "no_such_macro" in failed[node.unique_id]


def test_inspect_shows_traced_keys_and_their_model(graph):
    text = graph_to_text(graph)
    assert (
        "fk (user_id) -> source('app', 'customers')(id)  from relationships test "
        "test.staging.relationships_stg_orders_customer_id"
    ) in text
    assert "(traced via model.staging.stg_orders)" in text
    assert (
        "primary key (id)  from primary_key constraint model.staging.stg_payments "
        "(traced through the model's SQL)"
    ) in text
    doc = json.loads(json.dumps(graph_to_json(graph)))
    orders = next(t for t in doc["tables"] if t["name"] == "orders")
    vias = {fk["columns"][0]: fk["origin"]["via"] for fk in orders["foreign_keys"]}
    assert vias == {"user_id": MODEL + "stg_orders", "gifted_to": MODEL + "int_orders"}
    assert orders["primary_key_origin_detail"]["via"] == MODEL + "stg_orders"


# -- integration_tests: sources and staging models both tested -----------------------------


@pytest.fixture(scope="module")
def integration(projects, dbt_project):
    project = dbt_project(projects / "integration")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SYNTHOHIVE_IT_DUCKDB", str(projects / "integration.duckdb"))
        return schema_graph(load_project(project))


RAW = "source.synthohive_integration_tests.jaffle_shop."
OPS = "source.synthohive_integration_tests.ops."


def test_integration_staging_facts_deduplicate_with_the_sources_own(integration):
    # stg_customers/stg_orders repeat the sources' keys: the sources' own declarations win
    assert integration.table(RAW + "raw_customers").primary_key.origin.via is None
    orders = [fk for fk in integration.foreign_keys if fk.child == RAW + "raw_orders"]
    assert sorted((fk.columns, fk.origin.via) for fk in orders) == [
        (("customer",), None),
        (("store_id",), None),
    ]


def test_integration_composite_key_of_a_contract_model_reaches_its_source(integration):
    (fk,) = [
        fk
        for fk in integration.foreign_keys
        if fk.child == OPS + "crew_assignments" and fk.parent == OPS + "flight_legs"
    ]
    assert fk.columns == fk.parent_columns == ("flight_id", "leg_no")
    assert fk.origin.kind == "foreign_key constraint (model level)"
    assert fk.origin.via == "model.synthohive_integration_tests.crew_assignments_contract"
    assert not [w for w in integration.warnings if "cannot be read" in w]
