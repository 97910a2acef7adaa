"""Be the annotator: the MTurk grid task of ImageNetV2 as an ipywidgets app.

A grid shows images for one class, "select every image that contains a <class>". It mixes
pool images (whose selection frequency we want) with positive controls (original test
images of the class) and negative controls (original test images of other classes), shuffled.
Each submitted grid is one JSON line appended to the answer file and forced to disk
(:func:`reliable_ml.labels.labeling.append_record`), so a kernel restart loses nothing; the app
resumes at the first grid not yet submitted. :func:`reader_counts` turns the answers into
per-image (selected, shown) counts, keeping only grids whose controls the reader passed,
exactly like the simulated workers' filter.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from reliable_ml.labels.labeling import append_record, png_bytes, read_log

REQUIRED = ("reader", "grid", "tiles", "selected")


def append_answer(path: Path | str, record: dict) -> None:
    """One submitted grid: :func:`~reliable_ml.labels.labeling.append_record` (flushed, crash-safe)."""
    append_record(path, record)


@dataclass(frozen=True)
class Grid:
    """One grid: ``tiles`` is a shuffled list of ``(kind, index)`` with kind ``pool``
    (index into the pool), ``pos`` or ``neg`` (index into the control images)."""

    gid: str
    cls: int
    tiles: tuple[tuple[str, int], ...]


def make_grids(
    pool_classes: np.ndarray,
    control_labels: np.ndarray,
    n_classes: int,
    n_grids: int,
    grid_size: int = 24,
    n_controls: int = 3,
    seed: int = 0,
) -> list[Grid]:
    """``n_grids`` grids cycling over the classes: ``grid_size - 2 n_controls`` random pool images
    shown under class c (``pool_classes == c``), ``n_controls`` positive and ``n_controls``
    negative controls. Deterministic in ``seed`` (so a resumed session sees the same grids)."""
    pool_classes, control_labels = np.asarray(pool_classes), np.asarray(control_labels)
    if n_grids < 1 or n_controls < 1 or grid_size <= 2 * n_controls:
        raise ValueError(
            f"need n_grids >= 1, n_controls >= 1 and grid_size > 2 * n_controls; got "
            f"n_grids={n_grids}, n_controls={n_controls}, grid_size={grid_size}"
        )
    rng = np.random.default_rng(seed)
    grids = []
    for g in range(n_grids):
        c = g % n_classes
        pool_c = np.flatnonzero(pool_classes == c)
        pos_c, neg_c = np.flatnonzero(control_labels == c), np.flatnonzero(control_labels != c)
        if len(pool_c) == 0 or len(pos_c) < n_controls or len(neg_c) < n_controls:
            raise ValueError(f"class {c}: too few pool images ({len(pool_c)}) or controls for a grid")
        n_pool = min(grid_size - 2 * n_controls, len(pool_c))
        tiles = (
            [("pool", int(i)) for i in rng.choice(pool_c, n_pool, replace=False)]
            + [("pos", int(i)) for i in rng.choice(pos_c, n_controls, replace=False)]
            + [("neg", int(i)) for i in rng.choice(neg_c, n_controls, replace=False)]
        )
        order = rng.permutation(len(tiles))
        grids.append(Grid(f"s{seed}-g{g}-c{c}", c, tuple(tiles[i] for i in order)))
    return grids


def read_answers(path: Path | str):
    """Well-formed grid records and the problems of malformed lines (reported, skipped)."""
    records, problems = read_log(path, required=REQUIRED)
    good = []
    for rec in records:
        if (
            not isinstance(rec["tiles"], list)
            or not isinstance(rec["selected"], list)
            or len(rec["tiles"]) != len(rec["selected"])
        ):
            from reliable_ml.labels.labeling import LogProblem

            problems.append(LogProblem(-1, f"grid {rec.get('grid')!r}: tiles and selected differ in length", ""))
            continue
        good.append(rec)
    return good, problems


@dataclass
class ReaderCounts:
    selected: np.ndarray  # (n_pool,)
    shown: np.ndarray  # (n_pool,)
    n_grids_used: int
    n_grids_rejected: int


def control_accuracy(record: dict) -> float:
    """Share of controls answered right in a grid record (positive selected, negative not)."""
    right = total = 0
    for (kind, _), sel in zip(record["tiles"], record["selected"]):
        if kind in ("pos", "neg"):
            total += 1
            right += bool(sel) == (kind == "pos")
    return right / total if total else float("nan")


def reader_counts(
    records: list[dict], grids: list[Grid], n_pool: int, min_control_accuracy: float = 0.8
) -> ReaderCounts:
    """Per pool image, how often the reader selected it and was shown it, over the grids of
    this plan (``grids``) whose control accuracy is >= ``min_control_accuracy``. A grid
    submitted twice counts once (the last submission)."""
    plan = {g.gid: g for g in grids}
    last = {}
    for rec in records:
        if rec["grid"] in plan:
            last[rec["grid"]] = rec
    selected, shown = np.zeros(n_pool, dtype=np.int64), np.zeros(n_pool, dtype=np.int64)
    used = rejected = 0
    for rec in last.values():
        if not control_accuracy(rec) >= min_control_accuracy:
            rejected += 1
            continue
        used += 1
        for (kind, idx), sel in zip(rec["tiles"], rec["selected"]):
            if kind == "pool" and 0 <= int(idx) < n_pool:
                shown[int(idx)] += 1
                selected[int(idx)] += bool(sel)
    return ReaderCounts(selected, shown, used, rejected)


class GridApp:
    """The grid task. Drive it with the widgets or programmatically: ``tiles[i].value = True``
    (or :meth:`select`), :meth:`submit`; ``current`` is the index of the grid on screen
    (None when all are done). ``reader`` names whose answers these are."""

    def __init__(
        self,
        grids: list[Grid],
        pool_images: np.ndarray,
        control_images: np.ndarray,
        classes: tuple[str, ...],
        log_path: Path | str,
        reader: str = "reader",
        scale: int = 2,
    ):
        import ipywidgets as w

        from reliable_ml.labels.labeling import check_labeler

        if not grids:
            raise ValueError("no grids to show")
        self.grids, self.classes, self.log_path = list(grids), tuple(classes), Path(log_path)
        self.pool_images, self.control_images = np.asarray(pool_images), np.asarray(control_images)
        self.reader, self.scale = check_labeler(reader), scale
        records, self.problems = read_answers(self.log_path)
        self.done = {r["grid"] for r in records if r["reader"] == self.reader}
        size = max(len(g.tiles) for g in self.grids)
        self.prompt = w.HTML()
        self.images = [w.Image(format="png", layout=w.Layout(width=f"{28 * scale + 8}px")) for _ in range(size)]
        self.tiles = [
            w.ToggleButton(value=False, description="", icon="check", layout=w.Layout(width=f"{28 * scale + 8}px"))
            for _ in range(size)
        ]
        self.boxes = [w.VBox([im, tb]) for im, tb in zip(self.images, self.tiles)]
        self.submit_button = w.Button(description="Submit grid", button_style="primary")
        self.submit_button.on_click(lambda _: self.submit())
        self.progress = w.IntProgress(min=0, max=len(self.grids), description="Grids:")
        self.status = w.HTML()
        self.widget = w.VBox(
            [
                self.prompt,
                w.HBox(self.boxes, layout=w.Layout(flex_flow="row wrap")),
                w.HBox([self.submit_button, self.progress, self.status]),
            ]
        )
        self.current: int | None = None
        self._advance()
        if self.problems:
            self.status.value += (
                f" ({len(self.problems)} malformed line(s) in the answer file were skipped; "
                f"first: line {self.problems[0].line}, {self.problems[0].reason})"
            )

    def select(self, positions) -> None:
        """Select the tiles at ``positions`` (others unchanged)."""
        for p in positions:
            if not 0 <= p < len(self.grids[self.current].tiles):
                raise ValueError(f"tile position {p} is outside the grid (0-{len(self.grids[self.current].tiles) - 1})")
            self.tiles[p].value = True

    def submit(self) -> None:
        """Append the grid's answers to the file (flushed to disk) and show the next grid."""
        if self.current is None:
            self.status.value = "All grids are done. Thank you!"
            return
        grid = self.grids[self.current]
        record = {
            "reader": self.reader,
            "grid": grid.gid,
            "class": grid.cls,
            "tiles": [list(t) for t in grid.tiles],
            "selected": [bool(self.tiles[i].value) for i in range(len(grid.tiles))],
            "time": time.time(),
        }
        append_answer(self.log_path, record)
        self.done.add(grid.gid)
        self._advance()

    def _advance(self) -> None:
        pending = [i for i, g in enumerate(self.grids) if g.gid not in self.done]
        self.progress.value = len(self.grids) - len(pending)
        if not pending:
            self.current = None
            self.prompt.value = "<b>All grids are done. Thank you!</b>"
            self.status.value = f"{len(self.grids)} of {len(self.grids)} grids submitted."
            self.submit_button.disabled = True
            return
        self.current = pending[0]
        grid = self.grids[self.current]
        self.prompt.value = f"<b>Select every image that contains a {self.classes[grid.cls]}.</b>"
        for i, box in enumerate(self.boxes):
            visible = i < len(grid.tiles)
            box.layout.display = None if visible else "none"
            self.tiles[i].value = False
            if visible:
                kind, idx = grid.tiles[i]
                img = self.pool_images[idx] if kind == "pool" else self.control_images[idx]
                self.images[i].value = png_bytes(img, self.scale)
        self.status.value = f"grid {self.progress.value + 1} of {len(self.grids)}"
