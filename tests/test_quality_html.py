"""The HTML report: sections, scores, escaping, no network reference, size of a wide table,
and the page opened in headless Chromium (scripts/test installs Debian's ``chromium``)."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from synthohive_dbt.quality.html import render_html
from synthohive_dbt.quality.html_table import EAGER_COLUMNS

ROOT = Path(__file__).resolve().parents[1]
EVIL = '<script>alert("x")</script>'


def _hist(real, fake, edges=None):
    edges = edges or [float(i) for i in range(len(real) + 1)]
    return {"type": "histogram", "edges": edges, "real": real, "synthetic": fake}


def _col(name, score, chart, kind="numeric", **extra):
    metric = "TVComplement" if kind == "categorical" else "KSComplement"
    nulls = {"null_share_real": 0.0, "null_share_synthetic": 0.01}
    return {"name": name, "kind": kind, "metric": metric, "score": score, **nulls,
            "chart": chart, **extra}  # fmt: skip


def _pair(a, b, score, real=None, fake=None):
    metric = "ContingencySimilarity" if real is None else "CorrelationSimilarity"
    return {"columns": [a, b], "metric": metric, "score": score, "real": real, "synthetic": fake}


def _table(name, columns, pairs=(), correlation=None, **extra):
    return {
        "name": name,
        "rows_real": 1000,
        "rows_synthetic": 1200,
        "sampled_rows_real": 500,
        "sampled_rows_synthetic": 500,
        "score": 0.8,
        "column_shapes": 0.85,
        "column_pair_trends": 0.75,
        "columns": list(columns),
        "pairs": list(pairs),
        "correlation": correlation or {"columns": [], "real": [], "synthetic": []},
        "relationships": [],
        "integrity": {"duplicate_keys": 0, "null_keys": 0, "orphans": 0},
        **extra,
    }


def _report():
    """Two tables, an FK, a personal column, a label that is markup, datetime edges, a
    failed gate, privacy on one table only."""
    segment = {"type": "bars", "labels": ["retail", EVIL, "(other)"],
               "real": [0.5, 0.3, 0.2], "synthetic": [0.6, 0.1, 0.3]}  # fmt: skip
    joined = ["2021-01-01T00:00:00", "2021-07-02T12:00:00", "2022-01-01T00:00:00"]
    dcr = {"edges": [0, 0.5, 1, 1.5], "training": [0.3, 0.5, 0.2], "holdout": [0.28, 0.52, 0.2]}
    customers = _table(
        "customers",
        [
            _col("age", 0.912, _hist([0.2, 0.5, 0.3], [0.25, 0.45, 0.3], [18, 30, 50, 90])),
            _col("segment", 0.431, segment, kind="categorical"),
            _col("email", 0.7, {"type": "none"}, kind="categorical", personal=True),
            _col("joined", 0.8, _hist([0.5, 0.5], [0.4, 0.6], joined), kind="datetime"),
        ],
        pairs=[_pair("age", "segment", 0.512)],
        privacy={
            "dcr_share": 0.512,
            "exact_match_training": 0.0,
            "exact_match_holdout": 0.0,
            "nndr_median": 0.83,
            "passed": True,
            "dcr_histogram": dcr,
        },  # fmt: skip
    )
    fk = "orders(customer_id) -> customers(id)"
    orders = _table(
        "orders",
        [
            _col("amount", 0.654, _hist([0.5, 0.5], [0.7, 0.3])),
            _col("quantity", 0.953, _hist([0.5, 0.5], [0.5, 0.5])),
            _col("discount", 0.9, _hist([0.5, 0.5], [0.5, 0.5])),
        ],
        pairs=[
            _pair("amount", "quantity", 0.377, 0.61, -0.64),
            _pair("amount", "discount", 0.95, 0.1, 0.2),
            _pair("quantity", "discount", 0.99, 0.0, 0.01),
        ],
        correlation={
            "columns": ["amount", "quantity", "discount"],
            "real": [[1, 0.61, 0.1], [0.61, 1, 0.0], [0.1, 0.0, 1]],
            "synthetic": [[1, -0.64, 0.2], [-0.64, 1, 0.01], [0.2, 0.01, 1]],
        },
        relationships=[
            {
                "fk": fk,
                "parent": "customers",
                "child": "orders",
                "cardinality": 0.88,
                "intertable_trends": 0.66,
                "orphans": 3,
                "chart": _hist([0.1, 0.6, 0.3], [0.2, 0.5, 0.3]),
            }
        ],  # fmt: skip
        integrity={"duplicate_keys": 0, "null_keys": 0, "orphans": 3},
        privacy=None,
        score=0.55,
    )
    return {
        "format_version": 1,
        "schema": "synthetic",
        "overall": {
            "score": 0.675,
            "column_shapes": 0.8,
            "column_pair_trends": 0.55,
            "cardinality": 0.88,
            "intertable_trends": 0.66,
        },  # fmt: skip
        "tables": [customers, orders],
        "gate": {
            "fail_under": 0.9,
            "tables": {"orders": 0.7},
            "passed": False,
            "failures": [
                "overall score 0.675 is below 0.9",
                "table 'orders' scores 0.550, below 0.7",
            ],
        },  # fmt: skip
    }


def _wide_report(columns=200):
    """One table of ``columns`` numeric columns with 20-bin histograms, every pair's
    correlation and a pair list."""
    chart = _hist([1 / 20] * 20, [(j % 3 + 1) / 40 for j in range(20)])
    cols = [_col(f"c{i:03d}", (i % 97) / 97, chart) for i in range(columns)]
    names = [c["name"] for c in cols]
    n = range(columns)
    real = [[1.0 if i == j else ((i * j) % 11 - 5) / 10 for j in n] for i in n]
    fake = [[1.0 if i == j else ((i + j) % 11 - 5) / 10 for j in n] for i in n]
    pairs = [_pair(names[i - 1], names[i], 0.5, 0.1, 0.2) for i in n[1:]]
    table = _table("wide", cols, pairs, {"columns": names, "real": real, "synthetic": fake})
    return {"format_version": 1, "overall": {"score": 0.5}, "tables": [table]}


def _network_references(html: str) -> list[str]:
    pattern = (
        r"""(?:src|href|action|xlink:href)\s*=\s*["']?\s*(?:https?:)?//"""
        r"""|url\(\s*["']?\s*(?:https?:)?//|@import"""
    )
    return re.findall(pattern, html, flags=re.IGNORECASE)


def test_overview_sections_and_scores():
    html = render_html(_report())
    assert html.startswith("<!DOCTYPE html>")
    overview = html[html.index('id="overview"') : html.index('class="per-table"')]
    assert "0.675" in overview  # the overall score, big
    assert 'class="score fair big"' in overview
    assert "FAILED" in overview and "overall score 0.675 is below 0.9" in overview
    assert "table &#x27;orders&#x27; scores 0.550, below 0.7" in overview
    assert '<a href="#t0">customers</a>' in overview and '<a href="#t1">orders</a>' in overview
    # worst column and worst pair of the whole report, with links to their charts
    worst_columns = overview[overview.index("Worst columns") : overview.index("Worst pairs")]
    assert (
        worst_columns.index("segment") < worst_columns.index("amount") < worst_columns.index("age")
    )
    assert 'href="#t0-c1"' in worst_columns
    worst_pairs = overview[overview.index("Worst pairs") :]
    assert worst_pairs.index("amount \u00d7 quantity") < worst_pairs.index("age \u00d7 segment")
    assert "+0.61" in worst_pairs and "-0.64" in worst_pairs


def test_gate_passed_and_absent():
    report = _report()
    report["gate"] = {"fail_under": 0.5, "passed": True, "failures": []}
    assert "PASSED" in render_html(report) and "fail under 0.500" in render_html(report)
    del report["gate"]
    assert 'id="gate"' not in render_html(report)


def test_table_sections():
    html = render_html(_report())
    customers = html[html.index('id="t0"') : html.index('id="t1"')]
    orders = html[html.index('id="t1"') :]
    assert customers.count('<figure class="chart-card" id="t0-c') == 4
    assert "Personal column" in customers  # the "none" chart says so and draws nothing
    email = customers[customers.index('id="t0-c2"') :]
    assert "<svg" not in email[: email.index("</figure>")]
    assert 'id="t0-privacy"' in customers and "0.512" in customers and "0.83" in customers
    assert "training" in customers and "holdout" in customers
    assert ">2021-01-01<" in customers and "2021-07-02 12:00" in customers  # datetime edges
    assert 'id="t1-privacy"' not in orders  # no privacy metrics: no section
    assert "orders(customer_id) -&gt; customers(id)" in orders
    assert "Children per parent" in orders and "orphans 3" in orders
    assert orders.count('<figure class="heat">') == 3  # real, synthetic, difference
    assert 'class="verdict failed"' in orders  # integrity: 3 orphans


def test_sparse_report_renders():
    """Keys left out, unscored tables and columns, a "none" chart of unknown cause."""
    column = _col("notes", None, {"type": "none"}, kind="categorical")
    report = {"tables": [{"name": "bare"}, _table("thin", [column], score=None)]}
    html = render_html(report)
    assert 'class="score na big"' in html and "n/a" in html
    assert "a personal column, or too few real values" in html
    assert "Worst columns" not in html  # nothing scored


def test_labels_are_escaped():
    report = _report()
    report["tables"][0]["name"] = EVIL
    html = render_html(report)
    assert EVIL not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    assert html.count("<script") == 2  # the lazy charts' JSON and the page's script


def test_self_contained():
    html = render_html(_report())
    assert _network_references(html) == []
    assert "http://" not in html and "https://" not in html
    assert "<style>" in html and "<script>" in html
    assert _network_references('<img src="https://x/y.png">') != []  # the check sees one


def test_wide_table_is_small_and_lazy():
    start = time.perf_counter()
    html = render_html(_wide_report(200))
    elapsed = time.perf_counter() - start
    assert elapsed < 3, elapsed
    assert len(html.encode()) < 3_000_000, len(html.encode())
    eager = html[: html.index('id="lazy-charts"')]
    assert eager.count('class="chart-card" id="t0-c') == EAGER_COLUMNS
    lazy = html[html.index('id="lazy-charts"') :]
    assert lazy.count('class=\\"chart-card\\" id=\\"t0-c') == 200 - EAGER_COLUMNS
    assert "</script" not in lazy[: lazy.index("</script>")]  # JSON cannot end its element
    assert "40 of 200 columns" in html  # heatmaps capped


def _chromium(url: str, out: Path, *extra: str) -> subprocess.CompletedProcess:
    binary = shutil.which("chromium")
    if binary is None:
        pytest.fail("chromium is missing: scripts/test installs it (apt-get install -y chromium)")
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run(
            [binary, "--headless=new", "--disable-gpu", "--no-sandbox",
             "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>",
             "--no-first-run", "--disable-extensions", "--disable-dev-shm-usage",
             f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0",
             *extra, url],
            capture_output=True, text=True, timeout=120, cwd=out,
        )  # fmt: skip


@pytest.mark.slow
def test_opens_in_headless_chromium():
    build = ROOT / "build"
    build.mkdir(exist_ok=True)
    page = build / "quality_report.html"
    page.write_text(render_html(_report()), encoding="utf-8")
    dom = _chromium(page.as_uri(), build, "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert "Uncaught" not in dom.stderr, dom.stderr[-2000:]
    for anchor in ('id="overview"', 'id="gate"', 'id="t0"', 'id="t1"', 'id="t0-privacy"'):
        assert anchor in dom.stdout
    assert dom.stdout.count("<svg") >= 8  # 4 column charts, 3 heatmaps, children per parent...
    shot = _chromium(
        page.as_uri(),
        build,
        "--screenshot=quality_report.png",
        "--window-size=1400,2400",
        "--hide-scrollbars",
    )
    assert shot.returncode == 0 and "Uncaught" not in shot.stderr, shot.stderr[-2000:]
    assert (build / "quality_report.png").stat().st_size > 10_000


@pytest.mark.slow
def test_wide_table_opens_fast_and_draws_lazy_charts_on_demand():
    build = ROOT / "build"
    build.mkdir(exist_ok=True)
    page = build / "quality_report_wide.html"
    page.write_text(render_html(_wide_report(200)), encoding="utf-8")
    # a link to a chart that travels as JSON: the script draws it and opens its section
    target = "t0-c193"  # scores 96/97: among the last charts (worst first), in the JSON
    start = time.perf_counter()
    dom = _chromium(page.as_uri() + "#" + target, build, "--dump-dom")
    elapsed = time.perf_counter() - start
    assert dom.returncode == 0 and "Uncaught" not in dom.stderr, dom.stderr[-2000:]
    assert elapsed < 5, elapsed  # the browser's start included
    assert f'id="{target}"' not in page.read_text()  # not in the page as written
    assert f'id="{target}"' in dom.stdout
    assert dom.stdout.count('class="chart-card" id="t0-c') == 200
    assert re.search(r'<details class="more" data-lazy="t0-more"[^>]*open', dom.stdout)
