"""`snakemake --report` of the tiny end-to-end run holds every table and figure of the book the
run produced, each with its caption (report/*.rst) and a category."""

from __future__ import annotations

import json
import re
import zipfile

import pytest

pytestmark = pytest.mark.slow

# The book's tables and figures that a default run produces, as the report lists them.
BOOK_ITEMS = {
    "Table 3.1": "results/tables/table_3_1.csv",
    "Table 4.1": "results/tables/table_4_1.csv",
    "Table 6.1": "results/tables/table_6_1.csv",
    "Table 6.2": "results/tables/table_6_2.csv",
    "Table 7.1": "results/tables/table_7_1.csv",
    "Table 7.2": "results/tables/table_7_2.csv",
    "Figure 3.1": "results/figures/figure_3_1.png",
    "Figure 3.3": "results/figures/figure_3_3.png",
    "Figure 4.2": "results/figures/figure_4_2.png",
    "Figure 4.3": "results/figures/figure_4_3.png",
    "Figure 6.3": "results/figures/figure_6_3.png",
    "Figure 7.1": "results/figures/figure_7_1.png",
    "Figure 7.2": "results/figures/figure_7_2.png",
    "Figure 7.4": "results/figures/figure_7_4.png",
    "Figure 7.5": "results/figures/figure_7_5.png",
    "replication report": "results/report/replication_report.md",
}


def embedded_json(html: str, variable: str) -> dict:
    """A `var <variable> = {...};` object of Snakemake's report page (one line each)."""
    found = re.search(rf"^\s*var {variable} = (\{{.*\}});\s*$", html, re.MULTILINE)
    assert found, f"report.html has no 'var {variable} = ...' line (Snakemake's report layout changed?)"
    return json.loads(found[1])


@pytest.fixture(scope="module")
def report(tiny_run, tmp_path_factory) -> tuple[zipfile.ZipFile, dict, dict]:
    path = tmp_path_factory.mktemp("report") / "report.zip"
    built = tiny_run.snakemake("--report", str(path))
    assert built.returncode == 0, built.stderr[-4000:]
    archive = zipfile.ZipFile(path)
    html = archive.read("report/report.html").decode()
    return archive, embedded_json(html, "results"), embedded_json(html, "categories")


def categorised(categories: dict) -> dict[str, str]:
    """path -> category, over every subcategory."""
    return {path: category for category, sub in categories.items() for paths in sub.values() for path in paths}


@pytest.mark.parametrize("item", BOOK_ITEMS)
def test_report_holds_the_book_item_with_caption_and_category(report, tiny_run, item):
    archive, results, categories = report
    path = BOOK_ITEMS[item]
    assert path in results, f"{item} ({path}) is not in the report: wrap the output in report(...)"
    entry = results[path]
    caption = re.sub(r"<[^>]+>", "", entry["caption"] or "").strip()
    assert len(caption) > 40, f"{item}: empty or stub caption"
    assert categorised(categories).get(path), f"{item}: no category"
    assert archive.read(f"report/{entry['data_uri']}") == (tiny_run.workdir / path).read_bytes()


def test_report_renders_every_caption_without_rst_errors(report):
    _, results, _ = report
    broken = {path: entry["caption"] for path, entry in results.items() if "system-message" in (entry["caption"] or "")}
    assert not broken, f"captions with reStructuredText errors: {sorted(broken)}"
