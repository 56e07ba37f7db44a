"""Annotation sheet validation (row-numbered errors, no partial output) and cluster aggregation."""

from __future__ import annotations

import unicodedata

import pandas as pd
import pytest

from images_as_data.common.tables import read_user_csv
from images_as_data.labels.annotations import AnnotationError, aggregate_annotation_files, sheet_snapshots, snapshot_kind

EMOTIONS = ["fear", "anger"]
BINARY = ["protest", "legend"]
HEADER = "image_id,annotator,protest,legend,fear,anger"
GOOD_ROWS = [
    "a.jpg,ann1,no,0,2,0",
    "b.jpg,ann2,YES,0,4,1",  # b is an exact duplicate of a: pooled onto root a.jpg
    "a.jpg,ann3,No,False,6,2",
    "c.jpg,ann1,0,true,0,0",
    "c.jpg,ann2,false,0,0,3",
    "small.jpg,ann1,yes,0,5,5",  # excluded by the inventory
    "d.jpg,ann1,1,0,1,1",  # its cluster root has no working image
]


def write_corpus(folder):
    """Inventory, clusters and manifest of a five-image corpus (one duplicate pair)."""
    pd.DataFrame(
        {
            "image_id": ["a.jpg", "b.jpg", "c.jpg", "d.jpg", "small.jpg"],
            "status": ["kept", "kept", "kept", "kept", "excluded"],
            "reason": ["", "", "", "", "smaller than 5000 bytes"],
        }
    ).to_csv(folder / "inventory.csv", index=False)
    pd.DataFrame(
        {"image_id": ["a.jpg", "b.jpg", "c.jpg", "d.jpg"], "cluster_id": ["a.jpg", "a.jpg", "c.jpg", "d.jpg"]}
    ).to_csv(folder / "clusters.csv", index=False)
    pd.DataFrame(
        {"image_id": ["a.jpg", "c.jpg"], "cluster_id": ["a.jpg", "c.jpg"], "path": ["w/a.jpg.png", "w/c.jpg.png"]}
    ).to_csv(folder / "manifest.csv", index=False)


def run(folder, rows, header=HEADER):
    sheet = folder / "annotations.csv"
    sheet.write_text("\n".join([header, *rows]) + "\n")
    return aggregate_annotation_files(
        sheet,
        folder / "inventory.csv",
        folder / "clusters.csv",
        folder / "manifest.csv",
        folder / "out" / "aggregated.csv",
        folder / "out" / "excluded.csv",
        BINARY,
        EMOTIONS,
        [0, 10],
    )


@pytest.fixture
def corpus(tmp_path):
    write_corpus(tmp_path)
    return tmp_path


def test_aggregation_pools_duplicates_any_yes_and_mean(corpus):
    run(corpus, GOOD_ROWS)
    aggregated = pd.read_csv(corpus / "out" / "aggregated.csv").set_index("cluster_id")
    assert list(aggregated.index) == ["a.jpg", "c.jpg"]
    root = aggregated.loc["a.jpg"]
    assert root["protest"] == 1  # only the duplicate b.jpg said yes
    assert root["legend"] == 0
    assert root["fear"] == pytest.approx(4.0)  # mean of 2, 4, 6 across the cluster
    assert root["anger"] == pytest.approx(1.0)
    assert (root["n_annotators"], root["n_images_annotated"]) == (3, 2)
    other = aggregated.loc["c.jpg"]
    assert (other["protest"], other["legend"], other["anger"]) == (0, 1, pytest.approx(1.5))


def test_unusable_images_are_listed_with_reason(corpus):
    run(corpus, GOOD_ROWS)
    excluded = pd.read_csv(corpus / "out" / "excluded.csv").set_index("image_id")
    assert set(excluded.index) == {"small.jpg", "d.jpg"}
    assert "smaller than 5000 bytes" in excluded.loc["small.jpg", "reason"]
    assert "no working image" in excluded.loc["d.jpg", "reason"]


BAD_ROWS = {
    "binary value": ("a.jpg,ann1,maybe,0,2,0", "column 'protest' has 'maybe'"),
    "empty binary": ("a.jpg,ann1,,0,2,0", "column 'protest' has ''"),
    "missing score": ("a.jpg,ann1,no,0,,0", "column 'fear' is empty"),
    "non-numeric score": ("a.jpg,ann1,no,0,high,0", "column 'fear' has 'high', not a number"),
    "score above range": ("a.jpg,ann1,no,0,11,0", "outside labels.score_range"),
    "negative score": ("a.jpg,ann1,no,0,2,-1", "outside labels.score_range"),
    "unknown id": ("zzz.jpg,ann1,no,0,2,0", "'zzz.jpg' is not in the inventory"),
    "absolute id": ("/data/a.jpg,ann1,no,0,2,0", "absolute"),
    "parent id": ("../a.jpg,ann1,no,0,2,0", ".."),
    "backslash id": ("dir\\a.jpg,ann1,no,0,2,0", "backslash"),
    "empty annotator": ("a.jpg,,no,0,2,0", "annotator is empty"),
    "duplicate row": ("a.jpg,ann3,no,0,1,1", "repeats row 4"),
}


@pytest.mark.parametrize("case", sorted(BAD_ROWS))
def test_bad_row_stops_naming_file_and_row_and_writes_nothing(corpus, case):
    bad_row, expected = BAD_ROWS[case]
    rows = [*GOOD_ROWS[:4], bad_row, *GOOD_ROWS[4:]]  # the bad row is spreadsheet row 6
    with pytest.raises(AnnotationError) as error:
        run(corpus, rows)
    message = str(error.value)
    assert "annotations.csv, row 6:" in message
    assert expected in message
    assert not (corpus / "out").exists() or not any((corpus / "out").iterdir())


def test_missing_column_names_the_header_row(corpus):
    header = "image_id,annotator,protest,legend,anger"
    with pytest.raises(AnnotationError, match=r"annotations.csv: row 1 \(header\).*'fear'"):
        run(corpus, ["a.jpg,ann1,no,0,0"], header=header)
    assert not (corpus / "out" / "aggregated.csv").exists()


def test_every_problem_is_listed_at_once(corpus):
    rows = ["a.jpg,ann1,maybe,0,2,0", "c.jpg,ann1,no,0,12,0"]
    with pytest.raises(AnnotationError) as error:
        run(corpus, rows)
    assert "2 problem(s)" in str(error.value)
    assert "row 2:" in str(error.value) and "row 3:" in str(error.value)


def test_empty_sheet_is_reported(corpus):
    (corpus / "annotations.csv").write_text("")
    with pytest.raises(AnnotationError, match="empty"):
        aggregate_annotation_files(
            corpus / "annotations.csv",
            corpus / "inventory.csv",
            corpus / "clusters.csv",
            corpus / "manifest.csv",
            corpus / "agg.csv",
            corpus / "exc.csv",
            BINARY,
            EMOTIONS,
            [0, 10],
        )


ACCENTED = ["image_id,annotator,protest,legend,fear,anger", "caf\u00e9/a.jpg,Ren\u00e9e,yes,0,2,0"]


def test_windows_1252_sheet_is_read_and_logged(tmp_path, caplog):
    sheet = tmp_path / "sheet.csv"
    sheet.write_bytes("\r\n".join(ACCENTED).encode("cp1252"))
    frame = read_user_csv(sheet)
    assert frame.loc[0, "image_id"] == "caf\u00e9/a.jpg" and frame.loc[0, "annotator"] == "Ren\u00e9e"
    assert "Windows-1252" in caplog.text and "row 2" in caplog.text


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16"])
def test_sheet_with_a_byte_order_mark_is_read(tmp_path, encoding):
    sheet = tmp_path / "sheet.csv"
    sheet.write_bytes("\n".join(ACCENTED).encode(encoding))
    frame = read_user_csv(sheet)
    assert list(frame.columns)[0] == "image_id" and frame.loc[0, "annotator"] == "Ren\u00e9e"


def test_undecodable_sheet_stops_with_the_row_and_the_fix(corpus):
    sheet = corpus / "annotations.csv"
    sheet.write_bytes(b"image_id,annotator,protest,legend,fear,anger\na.jpg,ann1,no,0,2,0\nc.jpg,x\x81y,no,0,1,0\n")
    with pytest.raises(AnnotationError, match=r"row 3: byte 0x81 .*CSV UTF-8"):
        aggregate_annotation_files(sheet, *(corpus / f for f in ("inventory.csv", "clusters.csv", "manifest.csv")),
                                   corpus / "out" / "agg.csv", corpus / "out" / "exc.csv", BINARY, EMOTIONS, [0, 10])  # fmt: skip


def test_ids_are_compared_in_nfc(tmp_path):
    nfc, nfd = unicodedata.normalize("NFC", "caf\u00e9.jpg"), unicodedata.normalize("NFD", "caf\u00e9.jpg")
    pd.DataFrame({"image_id": [nfc], "status": ["kept"], "reason": [""]}).to_csv(tmp_path / "inventory.csv", index=False)
    pd.DataFrame({"image_id": [nfc], "cluster_id": [nfc]}).to_csv(tmp_path / "clusters.csv", index=False)
    pd.DataFrame({"image_id": [nfc], "cluster_id": [nfc], "path": ["w/c.png"]}).to_csv(tmp_path / "manifest.csv", index=False)
    aggregated = run(tmp_path, [f"{nfd},ann1,yes,0,1,0"])  # the sheet was typed on a Mac
    assert aggregated["cluster_id"].tolist() == [nfc]


TASKS = {"protest": {"type": "binary", "column": "protest"}, "fear": {"type": "emotion"}, "legend": {"type": "binary", "column": "legend"}}
NAMES = ["sheet", "annotated", "emotions", "labels_protest", "labels_legend", "labels_fear"]


def snapshots(tmp_path, rows):
    sheet = tmp_path / "snap.csv"
    sheet.write_text("\n".join([HEADER, *rows]) + "\n")
    return sheet_snapshots(sheet, {name: snapshot_kind(name, TASKS, EMOTIONS) for name in NAMES})


@pytest.mark.parametrize(
    "edit, changed",
    [
        (("a.jpg,ann1,no,0,2,0", "a.jpg,ann1,yes,0,2,0"), {"sheet", "labels_protest"}),
        (("b.jpg,ann2,YES,0,4,1", "b.jpg,ann2,true,0,4,1"), {"sheet"}),  # the same answer, spelt differently
        (("a.jpg,ann3,No,False,6,2", "a.jpg,ann3,No,False,7,2"), {"sheet", "emotions", "labels_fear"}),
        (("c.jpg,ann2,false,0,0,3", "c.jpg,ann2,false,yes,0,3"), {"sheet"}),  # c already had a legend yes
        (("d.jpg,ann1,1,0,1,1", "e.jpg,ann1,1,0,1,1"), set(NAMES)),  # another image
    ],
    ids=["one_answer", "same_answer", "one_score", "any_yes_unchanged", "other_image"],
)
def test_each_snapshot_changes_only_when_what_its_consumer_reads_changes(tmp_path, edit, changed):
    before = snapshots(tmp_path, GOOD_ROWS)
    after = snapshots(tmp_path, [edit[1] if row == edit[0] else row for row in GOOD_ROWS])
    assert {name for name in NAMES if before[name] != after[name]} == changed
    assert snapshots(tmp_path, list(reversed(GOOD_ROWS))) == {**before, "sheet": snapshots(tmp_path, list(reversed(GOOD_ROWS)))["sheet"]}


def test_missing_column_names_the_config_key_that_asks_for_it(corpus):
    """With every fine-tuning task presplit (the book config), the autotagger's manual labels
    still come from the sheet; a sheet without them names the key to change."""
    sheet = corpus / "annotations.csv"
    sheet.write_text("image_id,annotator,fear,anger\na.jpg,ann1,0,0\n")
    keys = {"legend": ["autotag.celebrity_comparison.manual_column"], "protest": ["autotag.label_comparison.manual_column"]}
    with pytest.raises(AnnotationError, match=r"'protest' \(asked for by autotag.label_comparison.manual_column\)"):
        aggregate_annotation_files(sheet, corpus / "inventory.csv", corpus / "clusters.csv", corpus / "manifest.csv",
                                   corpus / "out" / "a.csv", corpus / "out" / "e.csv", list(keys), EMOTIONS, [0, 10],
                                   column_keys=keys)  # fmt: skip
