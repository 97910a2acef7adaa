"""Public and private leaderboards of medical-imaging Kaggle competitions (Varoquaux & Cheplygina 2022).

The files are saved leaderboard pages from the authors' repository
(GaelVaroquaux/ml_med_imaging_failures, folder ``kaggle/``), kept under the data root as
``kaggle-medical/kaggle/<competition>_{public,private}.html`` plus ``meta_data.csv`` (each
competition's metric, prize, private fraction). Quirks handled here, from the data itself:

* a board is the first HTML table of the page; its columns include ``Team Name``, ``Score``
  and ``Entries``. The tables are read with the standard library's HTML parser (the same cells
  ``pandas.read_html`` reads, without needing lxml or html5lib);
* one private board (``mci-prediction``) is a ``.txt``: the page's text, one cell per line;
* some metrics are lower-is-better (MAE, log loss). ``meta_data.csv`` names the metric of the
  competitions it lists; for the others the direction is read from the board itself (ranks
  follow the score). :func:`competitions` says which.
"""

from __future__ import annotations

import io
import re
from functools import lru_cache
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd

from reliable_ml.data.files import _manifest, ensure_file
from reliable_ml.data.root import DataCorrupt

PREFIX = "kaggle-medical/kaggle/"
META = PREFIX + "meta_data.csv"
BOARDS = ("public", "private")
#: metrics of meta_data.csv for which a lower score is better
LOWER_IS_BETTER = frozenset({"mae", "logloss", "log loss", "rmse", "mse"})
COLUMNS = ("Team Name", "Score", "Entries")


class _FirstTable(HTMLParser):
    """Text of the header and body cells of the first ``<table>`` of a page."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.depth, self.done, self.rows, self.cell = 0, False, [], None

    def handle_starttag(self, tag, attrs):
        if self.done:
            return
        if tag == "table":
            self.depth += 1
        elif self.depth and tag == "tr":
            self.rows.append([])
        elif self.depth and tag in ("td", "th") and self.rows:
            self.cell = []

    def handle_endtag(self, tag):
        if self.done or not self.depth:
            return
        if tag in ("td", "th") and self.cell is not None:
            self.rows[-1].append(" ".join("".join(self.cell).split()))
            self.cell = None
        elif tag == "table":
            self.depth -= 1
            self.done = self.depth == 0

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)


def read_html_board(text: str, where: str = "page") -> pd.DataFrame:
    """The first table of a saved leaderboard page as a frame (header row = column names)."""
    start = text.find("<table")
    end = text.find("</table>", start)
    parser = _FirstTable()
    parser.feed(text if start < 0 or end < 0 else text[start : end + len("</table>")])
    rows = [r for r in parser.rows if r]
    if len(rows) < 2:
        raise DataCorrupt(where, "no leaderboard table (a <table> with a header and at least one row)")
    header, body = rows[0], [r for r in rows[1:] if len(r) == len(rows[0])]
    return pd.DataFrame(body, columns=header)


_SCORE = re.compile(r"^-?\d+\.\d+$")


def read_text_board(text: str, where: str = "board") -> pd.DataFrame:
    """A leaderboard saved as page text, one cell per line: rank, rank change, team name, then
    optional notebook/member lines, the score (a decimal number), the entries and the age."""
    lines = [line.strip() for line in text.splitlines()]
    try:
        start = lines.index("Team Name")
    except ValueError:
        raise DataCorrupt(where, "no 'Team Name' header line in the text leaderboard") from None
    rows, i = [], start + 1
    while i < len(lines) and lines[i] != "Last":
        i += 1
    i += 1
    while i < len(lines):
        if not lines[i].isdigit():
            i += 1
            continue
        rank, team, j = int(lines[i]), lines[i + 2] if i + 2 < len(lines) else "", i + 3
        while j < len(lines) and not _SCORE.match(lines[j]):
            j += 1
        if j + 1 >= len(lines) or not lines[j + 1].isdigit():
            raise DataCorrupt(where, f"row of rank {rank} ({team!r}) has no score and entries")
        rows.append({"#": rank, "Team Name": team, "Score": lines[j], "Entries": lines[j + 1]})
        i = j + 2
    if not rows:
        raise DataCorrupt(where, "no rows in the text leaderboard")
    return pd.DataFrame(rows)


def _board_file(name: str, board: str) -> str:
    if board not in BOARDS:
        raise ValueError(f"unknown leaderboard {board!r}; allowed: {', '.join(BOARDS)}")
    files = [rel for rel in _manifest()["kaggle-medical"]["files"] if rel.startswith(f"{PREFIX}{name}_{board}.")]
    if not files:
        raise ValueError(f"no {board} leaderboard for competition {name!r}; available: {', '.join(available())}")
    return files[0]


def available() -> list[str]:
    """Competitions with both a public and a private board in the manifest."""
    files = _manifest()["kaggle-medical"]["files"]
    names = {Path(rel).stem.rsplit("_", 1)[0] for rel in files if rel != META}
    return sorted(n for n in names if all(any(f.startswith(f"{PREFIX}{n}_{b}.") for f in files) for b in BOARDS))


def leaderboard(name: str, board: str = "public", root=None, download: bool = True) -> pd.DataFrame:
    """One board of a competition: columns ``team``, ``score`` (float), ``entries`` (int), in the
    board's order (rank 1 first). Raises ``DataUnavailable`` when the file is missing and cannot
    be downloaded, ``DataCorrupt`` when it holds no readable leaderboard."""
    rel = _board_file(name, board)
    path = ensure_file(rel, root, download)
    return _read_board(path, path.stat().st_mtime_ns, board).copy()


@lru_cache(maxsize=64)
def _read_board(path: Path, _mtime: int, board: str) -> pd.DataFrame:
    """The board in ``path``, decoded once: the decoded columns are kept in the result cache,
    keyed by the file's bytes, the board and this module's source (a saved page of several MB
    takes seconds to parse)."""
    import sys

    from reliable_ml.util import result_cache

    raw = path.read_bytes()

    def decode() -> dict:
        out = _decode_board(path, raw, board)
        return {"team": list(out["team"]), "score": out["score"].to_numpy(), "entries": out["entries"].to_numpy()}

    kept = result_cache.cached_arrays(
        "kaggle_board",
        {"function": "kaggle._read_board", "board": board, "suffix": path.suffix},
        decode,
        arrays=(np.frombuffer(bytearray(raw), dtype=np.uint8),),
        code=(sys.modules[__name__],),
    )
    return pd.DataFrame({"team": kept["team"], "score": kept["score"], "entries": kept["entries"]})


def _decode_board(path: Path, raw: bytes, board: str) -> pd.DataFrame:
    """Parse a saved board (page text or HTML) into ``team``, ``score``, ``entries``."""
    text = raw.decode("utf-8", errors="replace").replace("\r\n", "\n").replace("\r", "\n")  # as read_text
    frame = read_text_board(text, path) if path.suffix == ".txt" else read_html_board(text, path)
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise DataCorrupt(path, f"leaderboard lacks columns {missing}; found {list(frame.columns)}")
    out = pd.DataFrame(
        {
            "team": frame["Team Name"].astype(str).str.strip(),
            "score": pd.to_numeric(frame["Score"], errors="coerce"),
            "entries": pd.to_numeric(frame["Entries"], errors="coerce"),
        }
    )
    out = out.dropna().astype({"entries": int}).reset_index(drop=True)
    if len(out) < 2:
        raise DataCorrupt(path, f"fewer than 2 scored teams on the {board} board")
    return out


def meta_data(root=None, download: bool = True) -> pd.DataFrame:
    """``meta_data.csv``: one row per competition (``Name`` as index) with ``Metric``, ``Prize``,
    ``Private fraction``, ... (the file pads its cells with spaces; they are stripped)."""
    path = ensure_file(META, root, download)
    try:
        frame = pd.read_csv(io.StringIO(path.read_text(encoding="utf-8")), skipinitialspace=True, dtype=str)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise DataCorrupt(path, str(exc)) from exc
    frame.columns = [c.strip() for c in frame.columns]
    if not {"Name", "Metric"} <= set(frame.columns):
        raise DataCorrupt(path, f"expected columns 'Name' and 'Metric'; found {list(frame.columns)}")
    frame = frame.apply(lambda col: col.str.strip())
    return frame.set_index("Name")


def board_direction(private: pd.DataFrame) -> int:
    """+1 when the board ranks higher scores first, -1 when lower scores come first (read from
    the rank correlation of score with board position)."""
    rho = pd.Series(private["score"].to_numpy()).corr(pd.Series(np.arange(len(private))), method="spearman")
    return -1 if rho > 0 else 1


def competitions(root=None, download: bool = True, max_kb: int = 0) -> pd.DataFrame:
    """Every competition with both boards: its metric (``meta_data.csv``, or ``unlisted``), and
    ``higher_is_better`` with where that came from (the metric, or the board's own order).
    ``max_kb > 0`` leaves out competitions with a board file larger than that (quick runs)."""
    if max_kb < 0:
        raise ValueError(f"max_kb must be >= 0 (0: no limit); got {max_kb}")
    meta = meta_data(root, download)
    rows = []
    for name in available():
        sizes = [ensure_file(_board_file(name, b), root, download).stat().st_size for b in BOARDS]
        if max_kb and max(sizes) > 1024 * max_kb:
            continue
        metric = meta["Metric"].get(name, None) if name in meta.index else None
        order = board_direction(leaderboard(name, "private", root, download))
        if metric and metric != "NA":
            higher = metric.lower() not in LOWER_IS_BETTER
            if higher != (order > 0):
                raise DataCorrupt(
                    name,
                    f"metric {metric!r} says {'higher' if higher else 'lower'} is better "
                    "but the private board is ordered the other way",
                )
            how = "metric in meta_data.csv"
        else:
            metric, higher, how = "unlisted", order > 0, "order of the private board"
        rows.append({"competition": name, "metric": metric, "higher_is_better": higher, "direction_from": how})
    return pd.DataFrame(rows).set_index("competition")
