"""Medical Kaggle leaderboards: HTML and text boards, metric direction, errors; on tiny files the tests write."""

from __future__ import annotations

import pytest

from reliable_ml import data
from reliable_ml.data import files as data_files
from reliable_ml.data import kaggle

HEAD = (
    '<table class="competition-leaderboard__table"><thead><tr><th>#</th><th>Team Name</th><th>Notebook</th>'
    "<th>Team Members</th><th><span>Score<span></span></span></th><th>Entries</th><th>Last</th></tr></thead><tbody>"
)


def html_board(rows) -> str:
    body = "".join(
        f"<tr><td>{i + 1}</td><td title='{t}'>{t}</td><td></td><td><span>x</span></td>"
        f"<td>{s}</td><td>{e}</td><td><span title='d'>3y </span></td></tr>"
        for i, (t, s, e) in enumerate(rows)
    )
    return (
        f"<html><body><script>var a = '<table>';</script>{HEAD}{body}</tbody></table>"
        "<table><tr><td>other</td></tr></table></body></html>"
    )


TEXT_BOARD = """#
△pub
Team Name
Notebook
Team Members
Score
Entries
Last
1
3
Alpha & Co


0.36000
18
3y
2
—
Beta

+4Someone, Else
0.35600
9
3y
"""

META = """Name,   Prize,  Private fraction,	Organ,	    Task,	    Metric, URL
higher,  0,  .50,  Brain,  Diagnostic,  AUC,  https://example.org/higher
lower,   0,  .50,  Brain,  Diagnostic,  MAE,  https://example.org/lower
"""


@pytest.fixture
def boards(tmp_path, monkeypatch):
    monkeypatch.setenv("RELIABLE_ML_CACHE", str(tmp_path / "cache"))  # decoded boards are kept there
    folder = tmp_path / "kaggle-medical" / "kaggle"
    folder.mkdir(parents=True)
    (folder / "meta_data.csv").write_text(META)
    (folder / "higher_public.html").write_text(html_board([("A", "0.9", 5), ("B", "0.8", 3), ("C", "0.7", 1)]))
    (folder / "higher_private.html").write_text(html_board([("B", "0.85", 3), ("A", "0.84", 5), ("C", "0.6", 1)]))
    (folder / "lower_public.html").write_text(html_board([("A", "1.0", 2), ("B", "2.0", 2), ("C", "3.0", 2)]))
    (folder / "lower_private.html").write_text(html_board([("A", "1.5", 2), ("B", "2.5", 2), ("C", "3.5", 2)]))
    (folder / "unlisted_public.html").write_text(html_board([("A", "0.1", 2), ("B", "0.2", 2), ("C", "0.3", 2)]))
    (folder / "unlisted_private.txt").write_text(TEXT_BOARD.replace("0.36000", "0.10000").replace("0.35600", "0.20000"))
    files = {f"kaggle-medical/kaggle/{p.name}": "x" for p in folder.iterdir()}
    manifest = {
        "kaggle-medical": {
            "repo": "GaelVaroquaux/ml_med_imaging_failures",
            "branch": "master",
            "strip": "kaggle-medical/",
            "files": files,
        }
    }
    monkeypatch.setattr(data_files, "_manifest", lambda: manifest)
    monkeypatch.setattr(kaggle, "_manifest", lambda: manifest)
    kaggle._read_board.cache_clear()
    return tmp_path


def test_html_board_reads_the_first_table_only(boards):
    board = kaggle.leaderboard("higher", "public", root=boards, download=False)
    assert board.to_dict("list") == {"team": ["A", "B", "C"], "score": [0.9, 0.8, 0.7], "entries": [5, 3, 1]}


def test_text_board_parses_rows_with_member_lines():
    board = kaggle.read_text_board(TEXT_BOARD)
    assert board["Team Name"].tolist() == ["Alpha & Co", "Beta"]
    assert board["Score"].tolist() == ["0.36000", "0.35600"] and board["Entries"].tolist() == ["18", "9"]


def test_competitions_direction_from_metric_or_board(boards):
    comps = kaggle.competitions(root=boards, download=False)
    assert comps.loc["higher", "higher_is_better"] and not comps.loc["lower", "higher_is_better"]
    assert comps.loc["lower", "metric"] == "MAE"
    # unlisted in meta_data.csv: read from the (text) private board, where the lower score ranks first
    assert comps.loc["unlisted", "direction_from"] == "order of the private board"
    assert not comps.loc["unlisted", "higher_is_better"]
    assert kaggle.available() == ["higher", "lower", "unlisted"]


def test_missing_file_is_data_unavailable_naming_it(tmp_path, monkeypatch):
    manifest = {
        "kaggle-medical": {
            "repo": "GaelVaroquaux/ml_med_imaging_failures",
            "branch": "master",
            "strip": "kaggle-medical/",
            "files": {"kaggle-medical/kaggle/x_public.html": "x", "kaggle-medical/kaggle/x_private.html": "x"},
        }
    }
    monkeypatch.setattr(data_files, "_manifest", lambda: manifest)
    monkeypatch.setattr(kaggle, "_manifest", lambda: manifest)
    with pytest.raises(data.DataUnavailable, match="x_public.html"):
        kaggle.leaderboard("x", "public", root=tmp_path, download=False)


def test_bad_input_errors_name_the_value(boards):
    with pytest.raises(ValueError, match="'middle'.*public, private"):
        kaggle.leaderboard("higher", "middle", root=boards, download=False)
    with pytest.raises(ValueError, match="'nope'.*higher, lower, unlisted"):
        kaggle.leaderboard("nope", "public", root=boards, download=False)
    with pytest.raises(data.DataCorrupt, match="no leaderboard table"):
        kaggle.read_html_board("<html><p>nothing</p></html>")
    with pytest.raises(data.DataCorrupt, match="Team Name"):
        kaggle.read_text_board("just text")


def test_metric_contradicting_the_board_is_corrupt(boards):
    folder = boards / "kaggle-medical" / "kaggle"
    (folder / "lower_private.html").write_text(html_board([("A", "3.5", 2), ("B", "2.5", 2), ("C", "1.5", 2)]))
    kaggle._read_board.cache_clear()
    with pytest.raises(data.DataCorrupt, match="'MAE' says lower is better"):
        kaggle.competitions(root=boards, download=False)


def test_manifest_lists_the_kaggle_files_with_checksums():
    files = data_files._manifest()["kaggle-medical"]["files"]
    assert "kaggle-medical/kaggle/meta_data.csv" in files
    assert "kaggle-medical/kaggle/mci-prediction_private.txt" in files
    assert all(len(h) == 64 for h in files.values())
    assert data_files.upstream_url("kaggle-medical/kaggle/meta_data.csv").endswith(
        "GaelVaroquaux/ml_med_imaging_failures/master/kaggle/meta_data.csv"
    )
    assert len(kaggle.available()) >= 10
