"""load_project: dbt parse in-process, dbt's profile loader, dbt's selection syntax."""

from __future__ import annotations

from pathlib import Path

import pytest

from synthohive_dbt.errors import ProfileError, ProjectError, SelectionError
from synthohive_dbt.project.load import load_project, resolve_profiles_dir

ENV = "SYNTHOHIVE_TEST_DUCKDB"
SHOP_SOURCES = {
    "source.shop.jaffle_shop.raw_customers",
    "source.shop.jaffle_shop.raw_employees",
    "source.shop.jaffle_shop.raw_orders",
    "source.shop.jaffle_shop.raw_payments",
}


@pytest.fixture(scope="module")
def projects(tmp_path_factory: pytest.TempPathFactory, fixture_projects):
    root = fixture_projects(tmp_path_factory.mktemp("projects"))
    with pytest.MonkeyPatch.context() as mp:
        # A directory that does not exist: parsing must not open the DuckDB file.
        mp.setenv(ENV, str(root / "no_such_dir" / "warehouse.duckdb"))
        mp.delenv("DBT_PROFILES_DIR", raising=False)
        yield root


@pytest.fixture(scope="module")
def shop(projects: Path):
    return load_project(projects / "shop")


def test_loads_profile_target_and_credentials_with_dbt(shop, projects):
    assert shop.project_name == "shop"
    assert shop.project_dir == (projects / "shop").resolve()
    assert shop.adapter_type == "duckdb"
    assert shop.profile_name == "shop"
    assert shop.target_name == "dev"
    # env_var() in profiles.yml was rendered by dbt
    assert shop.credentials.path == str(projects / "no_such_dir" / "warehouse.duckdb")
    assert shop.config.credentials is shop.credentials
    assert shop.profiles_dir == (projects / "shop").resolve()
    assert "model.shop.orders" in shop.manifest.nodes


def test_parse_does_not_connect_to_the_warehouse(shop, projects):
    assert not (projects / "no_such_dir").exists()


def test_dbt_log_goes_to_the_projects_log_path(shop, projects, tmp_path, monkeypatch):
    assert (projects / "shop" / "logs" / "dbt.log").is_file()
    monkeypatch.chdir(tmp_path)
    load_project(projects / "shop")
    assert not (tmp_path / "logs").exists()
    assert not (tmp_path / "target").exists()


def test_default_selection_is_the_root_projects_sources(shop):
    assert set(shop.selected) == SHOP_SOURCES
    assert "source.vendor.vendor_raw.vendor_events" in shop.manifest.sources


def test_select_and_exclude_use_dbt_selection_syntax(projects):
    project = load_project(
        projects / "shop",
        select=["source:jaffle_shop", "countries"],
        exclude=["source:jaffle_shop.raw_payments"],
    )
    assert set(project.selected) == (SHOP_SOURCES - {"source.shop.jaffle_shop.raw_payments"}) | {
        "seed.shop.countries"
    }


def test_select_graph_operator_follows_refs_and_constraint_refs(projects):
    project = load_project(projects / "shop", select=["+orders"])
    assert set(project.selected) == {
        "model.shop.orders",
        "model.shop.customers",  # via the foreign_key constraint's to: ref('customers')
        "source.shop.jaffle_shop.raw_orders",
        "source.shop.jaffle_shop.raw_customers",
    }


def test_selection_never_includes_tests(projects):
    project = load_project(projects / "shop", select=["package:shop"])
    assert project.selected
    assert all(i.split(".")[0] in ("source", "model", "seed") for i in project.selected)


def test_select_matching_nothing_suggests_close_names(projects):
    with pytest.raises(SelectionError) as info:
        load_project(projects / "shop", select=["orderz", "source:jaffle_shop.raw_custmers"])
    message = str(info.value)
    assert "did you mean 'orders'" in message
    assert "'jaffle_shop.raw_customers'" in message
    assert len(info.value.problems) == 2


def test_exclude_removing_everything_is_an_error(projects):
    with pytest.raises(SelectionError, match="--exclude"):
        load_project(projects / "shop", exclude=["source:jaffle_shop"])


def test_target_override(projects):
    project = load_project(projects / "shop", target="ci")
    assert project.target_name == "ci"
    assert project.credentials.path.endswith("warehouse.duckdb.ci")
    assert project.config.threads == 2


def test_vars_reach_dbt_rendering(projects):
    project = load_project(projects / "shop", vars={"raw_schema": "landing"})
    assert project.manifest.sources["source.shop.jaffle_shop.raw_orders"].schema == "landing"


def test_missing_target_names_it_and_the_fix(projects):
    with pytest.raises(ProfileError) as info:
        load_project(projects / "shop", target="nope")
    message = str(info.value)
    assert "'nope'" in message and "- dev" in message
    assert "--target" in message and "--profiles-dir" in message


def test_missing_profiles_yml_lists_searched_paths(projects, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ProfileError) as info:
        load_project(projects / "shop", profiles_dir=empty)
    assert str(empty / "profiles.yml") in str(info.value)
    assert "--profiles-dir" in str(info.value)


def test_profile_missing_from_profiles_yml(projects, tmp_path):
    (tmp_path / "profiles.yml").write_text(
        "other:\n  target: dev\n  outputs:\n    dev: {type: duckdb, path: x.duckdb}\n"
    )
    with pytest.raises(ProfileError, match="Could not find profile named 'shop'"):
        load_project(projects / "shop", profiles_dir=tmp_path)


def test_missing_env_var_in_profile_is_a_profile_error(projects, monkeypatch):
    monkeypatch.delenv(ENV)
    with pytest.raises(ProfileError, match=ENV):
        load_project(projects / "cycles")


def test_profiles_dir_from_env_wins(projects, tmp_path, monkeypatch):
    text = (projects / "shop" / "profiles.yml").read_text().replace("target: dev", "target: ci")
    (tmp_path / "profiles.yml").write_text(text)
    monkeypatch.setenv("DBT_PROFILES_DIR", str(tmp_path))
    project = load_project(projects / "shop")
    assert project.profiles_dir == tmp_path.resolve()
    assert project.target_name == "ci"


def test_profiles_dir_search_order(projects, tmp_path, monkeypatch):
    home, cwd = tmp_path / "home", tmp_path / "cwd"
    (home / ".dbt").mkdir(parents=True)
    cwd.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(cwd)
    assert resolve_profiles_dir(projects / "shop") == projects / "shop"
    project_without = tmp_path / "bare"
    project_without.mkdir()
    (home / ".dbt" / "profiles.yml").write_text("x: {}\n")
    assert resolve_profiles_dir(project_without) == home / ".dbt"
    (cwd / "profiles.yml").write_text("x: {}\n")
    assert resolve_profiles_dir(project_without) == cwd


def test_broken_yaml_is_a_project_error_with_dbts_message(projects):
    with pytest.raises(ProjectError) as info:
        load_project(projects / "broken_yaml")
    assert "schema.yml" in str(info.value)
    assert "line 5" in str(info.value)


def test_not_a_dbt_project(tmp_path):
    with pytest.raises(ProjectError, match="dbt_project.yml"):
        load_project(tmp_path)


def test_loads_are_independent_within_one_process(projects):
    first = load_project(projects / "cycles", select=["source:loose"])
    second = load_project(projects / "shop", target="ci")
    third = load_project(projects / "cycles", select=["source:strict"])
    assert first.project_name == third.project_name == "cycles"
    assert second.target_name == "ci" and second.project_name == "shop"
    assert set(first.selected) == {
        "source.cycles.loose.departments",
        "source.cycles.loose.employees",
    }
    assert set(third.selected) == {"source.cycles.strict.a", "source.cycles.strict.b"}
    assert "model.shop.orders" not in first.manifest.nodes


def test_dbt_prints_nothing(projects, capfd):
    load_project(projects / "cycles", select=["source:loose"])
    with pytest.raises(ProjectError):
        load_project(projects / "broken_yaml")
    out, _ = capfd.readouterr()
    assert out == ""


def test_postgres_target_with_secret_env_var(projects, tmp_path, monkeypatch):
    monkeypatch.setenv("DBT_ENV_SECRET_PG_PASSWORD", "s3cret")
    (tmp_path / "profiles.yml").write_text(
        "cycles:\n"
        "  target: pg\n"
        "  outputs:\n"
        "    pg:\n"
        "      type: postgres\n"
        "      host: 127.0.0.1\n"
        "      port: 5432\n"
        "      user: postgres\n"
        "      password: \"{{ env_var('DBT_ENV_SECRET_PG_PASSWORD') }}\"\n"
        "      dbname: test\n"
        "      schema: synthohive_test\n"
    )
    project = load_project(projects / "cycles", profiles_dir=tmp_path)
    assert project.adapter_type == "postgres"
    assert project.credentials.password == "s3cret"
    assert (project.credentials.database, project.credentials.schema) == ("test", "synthohive_test")
    source = project.manifest.sources["source.cycles.loose.employees"]
    assert (source.database, source.schema) == ("test", "loose")
