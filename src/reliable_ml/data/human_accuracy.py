"""Human and model accuracy on ImageNet and ImageNetV2 from Shankar et al. 2020, parsed from
the printed outputs of their executed notebook.

The five trained labelers' raw labels are not released outside a cloud bucket; the repository
``modestyachts/evaluating_machine_accuracy_on_imagenet`` (commit 47d2141) holds only an
executed notebook, ``generate_main_plots.ipynb``, whose *stored outputs* print the numbers:

* one block per figure, written by ``make_fig(h_a, df, "<title>", <filter>)``: the line fit
  (``Slope .., intercept .., r ..``) and, per labeler (``human_a`` .. ``human_e``) and four
  models, ``<name> <val accuracy %> <v2 accuracy %>`` at full float precision. The titles are
  ``ImageNet vs ImageNetV2`` (all images), ``objects_only``, ``no_dogs`` and ``fast_images``;
* the data frame of every classifier on all images (``df``), multi-label accuracy rounded to
  2 decimals, with ``val_dataset_size`` and ``v2_dataset_size``. Pandas printed it with rows
  elided: **60 of its 80 rows are visible** (``table_rows`` vs ``len(table)``).

Blocks are matched to figures through the ``make_fig`` titles in the cell's source, in
order, never by cell position. The number of images behind a subset's accuracies is not
printed (except for all images, in the table); :func:`infer_denominator` recovers it from the
full-precision fractions (each accuracy is k / n for the same n), and for all images it must
equal the table's sizes. Everything is validated; a file that does not parse raises
``DataCorrupt`` saying what was expected.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from reliable_ml.data.files import ensure_file
from reliable_ml.data.root import DataCorrupt, data_root

NOTEBOOK = "imagenet-human-accuracy/generate_main_plots.ipynb"
LABELERS: tuple[str, ...] = ("human_a", "human_b", "human_c", "human_d", "human_e")
SUBSET_TITLES = {
    "imagenet vs imagenetv2": "all_images",
    "objects_only": "objects_only",
    "no_dogs": "no_dogs",
    "fast_images": "fast_images",
}
ALIASES = {"instagram-48d": "instagram_model_48d"}  # the blocks' name -> the table's name, same model

_CALL = re.compile(r"make_fig\(\s*h_a\s*,\s*df\s*,\s*(['\"])(?P<title>.+?)\1")
_FIT = re.compile(r"Slope\s+(?P<slope>[-\d.eE+]+),\s*intercept\s+(?P<intercept>[-\d.eE+]+),\s*r\s+(?P<r>[-\d.eE+]+)")
_ROW = re.compile(r"^(?P<name>[A-Za-z][\w.\-]*)\s+(?P<val>[-\d.eE+]+)\s+(?P<v2>[-\d.eE+]+)\s*$")
_SHAPE = re.compile(r"\[(?P<rows>\d+) rows x (?P<cols>\d+) columns\]")


@dataclass(frozen=True)
class HumanAccuracy:
    """The parsed results. ``subsets[name]``: a frame indexed by classifier with ``val`` and
    ``v2`` (multi-label accuracy, %) at full precision; ``fits[name]``: the notebook's linear
    fit over its models (``slope``, ``intercept``, ``r``); ``n[name]``: ``(n_val, n_v2)``, the
    images behind one classifier's accuracies; ``table``: the visible rows of the all-images
    data frame (2 decimals), ``table_rows``: how many rows it has (80)."""

    subsets: dict[str, pd.DataFrame]
    fits: dict[str, dict]
    n: dict[str, tuple[int, int]]
    table: pd.DataFrame
    table_rows: int
    n_inferred: dict[str, bool] = field(default_factory=dict)

    @property
    def hidden_rows(self) -> int:
        return self.table_rows - len(self.table)


def _text(output: dict) -> str:
    if output.get("output_type") == "stream":
        raw = output.get("text", "")
    else:
        raw = output.get("data", {}).get("text/plain", "")
    return "".join(raw) if isinstance(raw, list) else str(raw)


def _source(cell: dict) -> str:
    raw = cell.get("source", "")
    return "".join(raw) if isinstance(raw, list) else str(raw)


def infer_denominator(percentages, n_max: int = 100_000, tol: float = 1e-6) -> int | None:
    """The smallest n <= ``n_max`` with every value in ``percentages`` equal to 100 k / n for an
    integer k (within ``tol`` of an integer), or ``None``. With several full-precision values
    the answer is unique in practice; rounded values (2 decimals) cannot be used."""
    p = np.asarray(list(percentages), dtype=float) / 100
    if p.size == 0 or np.any((p < 0) | (p > 1)):
        raise ValueError(f"percentages must lie in [0, 100]; got {np.round(100 * p, 4).tolist()}")
    for n in range(1, n_max + 1):
        k = p * n
        if np.all(np.abs(k - np.round(k)) < tol * max(1.0, n / 100)):
            return n
    return None


def parse_blocks(text: str, path="<notebook>") -> list[dict]:
    """The ``make_fig`` blocks of one stream output: ``[{"fit": {...}, "rows": {name: (val, v2)}}]``.
    A block starts at a ``Slope ..., intercept ..., r ...`` line; its rows follow."""
    blocks: list[dict] = []
    for line in text.splitlines():
        fit = _FIT.search(line)
        if fit:
            blocks.append({"fit": {k: float(v) for k, v in fit.groupdict().items()}, "rows": {}})
            continue
        row = _ROW.match(line.strip())
        if row and blocks:
            try:
                blocks[-1]["rows"][row["name"]] = (float(row["val"]), float(row["v2"]))
            except ValueError:
                raise DataCorrupt(path, f"cannot read accuracies in the printed line {line.strip()!r}") from None
    return blocks


def parse_table(text: str, path="<notebook>") -> tuple[pd.DataFrame, int]:
    """A pandas frame printed as text (wrapped into column groups, rows elided with ``..``):
    the visible rows as a frame indexed by the printed row number, and the declared row count."""
    shape = _SHAPE.search(text)
    if not shape:
        raise DataCorrupt(path, "the printed table has no '[N rows x M columns]' line")
    n_rows, n_cols = int(shape["rows"]), int(shape["cols"])
    groups = [g for g in re.split(r"\n\s*\n", text[: shape.start()]) if g.strip()]
    parts = []
    for group in groups:
        lines = [ln.rstrip().rstrip("\\").rstrip() for ln in group.splitlines() if ln.strip()]
        header, rows = lines[0].split(), {}
        for ln in lines[1:]:
            tokens = ln.split()
            if tokens[0] == ".." or set(tokens[0]) == {"."}:
                continue  # the elided rows
            if len(tokens) != len(header) + 1 or not tokens[0].isdigit():
                raise DataCorrupt(path, f"table row {ln.strip()!r} does not match the header {header}")
            rows[int(tokens[0])] = tokens[1:]
        parts.append(pd.DataFrame.from_dict(rows, orient="index", columns=header))
    if not parts:
        raise DataCorrupt(path, "the printed table has no rows")
    table = pd.concat(parts, axis=1)
    if table.shape[1] != n_cols or table.isna().any().any():
        raise DataCorrupt(
            path,
            f"the printed table has {table.shape[1]} columns (declared {n_cols}) or rows missing from a column group",
        )
    if len(table) > n_rows or (len(table) and table.index.max() >= n_rows):
        raise DataCorrupt(
            path, f"{len(table)} visible rows, up to row {table.index.max()}, in a table declared with {n_rows} rows"
        )
    for col in table.columns:
        converted = pd.to_numeric(table[col], errors="coerce")
        if converted.notna().all():
            table[col] = converted
    return table.sort_index(), n_rows


def _check_acc(frame: pd.DataFrame, what: str, path) -> None:
    values = frame[["val", "v2"]].to_numpy(dtype=float)
    if not np.all(np.isfinite(values)) or values.min() < 0 or values.max() > 100:
        raise DataCorrupt(
            path, f"{what}: accuracies must be percentages in [0, 100]; got {values.min():.4g} to {values.max():.4g}"
        )


def read_notebook(path: Path | str) -> HumanAccuracy:
    """Parse an executed ``generate_main_plots.ipynb`` (see the module docstring)."""
    path = Path(path)
    try:
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError) as exc:
        raise DataCorrupt(path, f"not a Jupyter notebook ({exc})") from exc
    subsets, fits = {}, {}
    table, table_rows = None, 0
    for cell in cells:
        if cell.get("cell_type") != "code":
            continue
        titles = [m["title"] for m in _CALL.finditer(_source(cell))]
        for out in cell.get("outputs", []):
            text = _text(out)
            if titles and out.get("output_type") == "stream" and "Slope" in text:
                blocks = parse_blocks(text, path)
                if len(blocks) != len(titles):
                    raise DataCorrupt(
                        path, f"{len(titles)} make_fig call(s) ({titles}) but {len(blocks)} printed result block(s)"
                    )
                for title, block in zip(titles, blocks):
                    name = SUBSET_TITLES.get(title.strip().lower(), title.strip())
                    frame = pd.DataFrame(block["rows"], index=["val", "v2"]).T
                    subsets[name], fits[name] = frame, block["fit"]
            elif out.get("output_type") == "execute_result" and _SHAPE.search(text) and "username" in text:
                table, table_rows = parse_table(text, path)
    if "all_images" not in subsets:
        raise DataCorrupt(
            path,
            f"no printed result block for the figure 'ImageNet vs ImageNetV2' (all images); found {sorted(subsets)}",
        )
    if table is None:
        raise DataCorrupt(path, "no printed data frame of classifiers ('[N rows x M columns]' with 'username')")
    for name, frame in subsets.items():
        missing = [h for h in LABELERS if h not in frame.index]
        if missing:
            raise DataCorrupt(path, f"subset {name!r}: labelers {missing} missing from the printed block")
        _check_acc(frame, f"subset {name!r}", path)
    need = {"username", "val", "v2", "val_dataset_size", "v2_dataset_size"}
    if not need <= set(table.columns):
        raise DataCorrupt(path, f"the printed table lacks columns {sorted(need - set(table.columns))}")
    _check_acc(table, "the printed table", path)
    table = table.set_index("username")
    sizes = table[["val_dataset_size", "v2_dataset_size"]].drop_duplicates()
    if len(sizes) != 1:
        raise DataCorrupt(path, f"the table's dataset sizes differ between rows: {sizes.values.tolist()}")
    n_all = tuple(int(v) for v in sizes.iloc[0])
    missing = [h for h in LABELERS if h not in table.index]
    if missing:
        raise DataCorrupt(path, f"labelers {missing} missing from the visible rows of the printed table")
    for name, (val, v2) in subsets["all_images"].iterrows():  # the blocks agree with the table
        row = ALIASES.get(name, name)
        if row in table.index and (abs(table.loc[row, "val"] - val) > 0.011 or abs(table.loc[row, "v2"] - v2) > 0.011):
            raise DataCorrupt(
                path,
                f"{name}: the printed block ({val:.2f}, {v2:.2f}) and the table "
                f"({table.loc[row, 'val']}, {table.loc[row, 'v2']}) disagree",
            )
    n, inferred = {}, {}
    for name, frame in subsets.items():
        n_val = infer_denominator(frame["val"], max(n_all) if name != "all_images" else 100_000)
        n_v2 = infer_denominator(frame["v2"], max(n_all) if name != "all_images" else 100_000)
        if name == "all_images":
            if (n_val, n_v2) != n_all and (n_val is None or n_v2 is None or n_all[0] % n_val or n_all[1] % n_v2):
                raise DataCorrupt(
                    path, f"all images: the printed fractions imply ({n_val}, {n_v2}) images, the table says {n_all}"
                )
            n[name], inferred[name] = n_all, False
        elif n_val and n_v2:
            n[name], inferred[name] = (n_val, n_v2), True
    return HumanAccuracy(subsets, fits, n, table, table_rows, inferred)


def human_accuracy(root: Path | str | None = None, download: bool = True) -> HumanAccuracy:
    """Shankar et al. 2020's printed results (:func:`read_notebook`) from the data root,
    downloaded (checksummed, at commit 47d2141) when absent; ``DataUnavailable`` otherwise."""
    return read_notebook(ensure_file(NOTEBOOK, data_root(root) if root is not None else None, download))
