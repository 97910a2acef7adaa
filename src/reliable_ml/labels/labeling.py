"""Human labeling: an append-only answer log and an ipywidgets app for the classification task.

The task is run as Shankar et al. (2020) ran it: one image at a time from a blinded, shuffled
mix of an original and a new test set; the labeler picks a class (buttons, or type the class
number and press Enter), may skip or undo, and sees progress. The source of an image is never
shown: items carry opaque ids, and the mapping back to (source, index, true label) stays in
the :class:`LabelingTask`.

Every action is one JSON line appended to the log and flushed to disk (``fsync``) before the
app moves on, so a crash loses at most the answer being given. Reading the log reports and
skips malformed lines (e.g. a line cut short by a crash) without losing the rest.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ACTIONS = ("label", "skip", "undo")
ENV_ANNOTATIONS = "RELIABLE_ML_ANNOTATIONS"


def annotations_root() -> Path:
    """Where answer logs live: ``$RELIABLE_ML_ANNOTATIONS``; else ``annotations/`` of the
    course checkout this package runs from (where earlier sessions saved theirs); else, for an
    installed package (Colab), ``annotations/`` under the user cache."""
    env = os.environ.get(ENV_ANNOTATIONS)
    if env:
        return Path(env)
    checkout = Path(__file__).resolve().parents[3]
    if (checkout / "pyproject.toml").exists():
        return checkout / "annotations"
    from reliable_ml.data.root import cache_dir

    return cache_dir() / "annotations"


# ----------------------------------------------------------------------------- the log
@dataclass(frozen=True)
class LogProblem:
    line: int
    reason: str
    text: str


def append_record(path: Path | str, record: dict) -> None:
    """Append one JSON line and force it to disk (flush + fsync).

    A last line left unfinished by a crash is closed first, so the new record starts on a
    line of its own instead of merging with the broken one (and being lost with it).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(record, sort_keys=True)
    unfinished = False
    if path.exists() and path.stat().st_size:
        with open(path, "rb") as fh:
            fh.seek(-1, os.SEEK_END)
            unfinished = fh.read(1) != b"\n"
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(("\n" if unfinished else "") + line + "\n")
        fh.flush()
        os.fsync(fh.fileno())


def read_log(
    path: Path | str, required: Sequence[str] = ("labeler", "item", "action")
) -> tuple[list[dict], list[LogProblem]]:
    """All well-formed records of a JSONL log, and the problems of the lines that are not.

    A missing file is an empty log. A line that is not JSON, not an object, lacks a
    required key or has an unknown action is reported and skipped.
    """
    path = Path(path)
    if not path.exists():
        return [], []
    records, problems = [], []
    with open(path, encoding="utf-8", errors="replace") as fh:
        for number, raw in enumerate(fh, start=1):
            text = raw.rstrip("\n")
            if not text.strip():
                continue
            try:
                record = json.loads(text)
            except json.JSONDecodeError as exc:
                problems.append(LogProblem(number, f"not valid JSON ({exc.msg})", text[:80]))
                continue
            if not isinstance(record, dict):
                problems.append(LogProblem(number, "not a JSON object", text[:80]))
                continue
            missing = [k for k in required if k not in record]
            if missing:
                problems.append(LogProblem(number, f"missing keys {missing}", text[:80]))
                continue
            if "action" in required and record["action"] not in ACTIONS:
                problems.append(LogProblem(number, f"unknown action {record['action']!r}", text[:80]))
                continue
            records.append(record)
    return records, problems


def replay(records: Sequence[dict], labeler: str) -> dict[str, str | None]:
    """A labeler's current answers ``{item: label or None (skipped)}`` after applying undos.

    ``undo`` removes that labeler's most recent remaining answer (label or skip).
    """
    answers: dict[str, str | None] = {}
    order: list[str] = []
    for rec in records:
        if rec["labeler"] != labeler:
            continue
        if rec["action"] == "undo":
            if order:
                answers.pop(order.pop(), None)
            continue
        if rec["item"] in answers:
            order.remove(rec["item"])
        answers[rec["item"]] = rec.get("label") if rec["action"] == "label" else None
        order.append(rec["item"])
    return answers


def labelers(records: Sequence[dict]) -> list[str]:
    """Labeler names in order of first appearance."""
    return list(dict.fromkeys(r["labeler"] for r in records))


# ----------------------------------------------------------------------------- the task
@dataclass
class LabelingTask:
    """A blinded mix of images from several sources.

    ``images``: uint8 ``(N, C, H, W)``; ``sources``: e.g. "original"/"new" per image;
    ``labels``: true class index per image; ``classes``: class names.
    """

    images: np.ndarray
    sources: np.ndarray
    labels: np.ndarray
    classes: tuple[str, ...]
    name: str = "task"
    ids: np.ndarray = field(init=False)

    def __post_init__(self):
        self.images, self.sources, self.labels = map(np.asarray, (self.images, self.sources, self.labels))
        n = len(self.images)
        if n == 0:
            raise ValueError("a labeling task needs at least one image")
        if not (len(self.sources) == len(self.labels) == n):
            raise ValueError(
                f"images, sources and labels must have the same length; got "
                f"{n}, {len(self.sources)}, {len(self.labels)}"
            )
        if self.images.ndim != 4 or self.images.shape[1] not in (1, 3) or self.images.dtype != np.uint8:
            raise ValueError(f"images must be uint8 (N, 1 or 3, H, W); got {self.images.dtype} {self.images.shape}")
        if self.labels.min() < 0 or self.labels.max() >= len(self.classes):
            raise ValueError(f"labels must lie in [0, {len(self.classes) - 1}]")
        self.ids = np.array(
            [hashlib.sha1(f"{self.name}|{s}|{i}".encode()).hexdigest()[:12] for i, s in enumerate(self.sources)]
        )

    def order_for(self, labeler: str) -> np.ndarray:
        """The labeler's shuffled order (fixed by the name, so a session resumes identically)."""
        seed = int(hashlib.sha1(f"{self.name}|{labeler}".encode()).hexdigest()[:8], 16)
        return np.random.default_rng(seed).permutation(len(self.images))

    def truth(self) -> dict[str, tuple[str, str]]:
        """``{item id: (source, true class name)}``."""
        return {i: (str(s), self.classes[int(y)]) for i, s, y in zip(self.ids, self.sources, self.labels)}


def check_labeler(name: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > 40 or not all(ch.isalnum() or ch in " -_." for ch in name):
        raise ValueError(f"labeler name {name!r}: use 1-40 letters, digits, spaces, '-', '_' or '.'")
    return name


def accuracy_table(records: Sequence[dict], task: LabelingTask, alpha: float = 0.05):
    """Per labeler and source: answered, correct, accuracy and exact (Clopper-Pearson) interval.

    Skipped items are not counted as answered. Returns a pandas DataFrame.
    """
    import pandas as pd

    from reliable_ml.stats import clopper_pearson

    truth = task.truth()
    rows = []
    for who in labelers(records):
        answers = replay(records, who)
        for source in sorted(set(map(str, task.sources))):
            graded = [
                answers[i] == truth[i][1]
                for i in answers
                if i in truth and truth[i][0] == source and answers[i] is not None
            ]
            n, k = len(graded), int(sum(graded))
            lo, hi = clopper_pearson(k, n, alpha) if n else (np.nan, np.nan)
            rows.append(
                {
                    "labeler": who,
                    "source": source,
                    "answered": n,
                    "correct": k,
                    "accuracy": k / n if n else np.nan,
                    "ci_low": float(lo),
                    "ci_high": float(hi),
                }
            )
    return pd.DataFrame(rows, columns=["labeler", "source", "answered", "correct", "accuracy", "ci_low", "ci_high"])


# ----------------------------------------------------------------------------- the app
def png_bytes(image_chw: np.ndarray, scale: int) -> bytes:
    """PNG bytes of a uint8 (C, H, W) image, enlarged ``scale`` times with nearest-neighbour pixels."""
    from PIL import Image

    hwc = image_chw.transpose(1, 2, 0)
    img = Image.fromarray(hwc[:, :, 0] if hwc.shape[2] == 1 else hwc)
    img = img.resize((img.width * scale, img.height * scale), Image.NEAREST)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


class ClassifyApp:
    """One image at a time; pick its class. Every action is appended to ``log_path`` at once.

    Drive it with the buttons, or programmatically: ``start(name)``, ``answer(class)``,
    ``skip()``, ``undo()``; ``current`` is the index of the image on screen (None when done).
    """

    def __init__(self, task: LabelingTask, log_path: Path | str, scale: int = 6):
        import ipywidgets as w

        self.task, self.log_path, self.scale = task, Path(log_path), scale
        self.labeler: str | None = None
        self.order = np.arange(0)
        self.answers: dict[str, str | None] = {}
        self.current: int | None = None
        records, self.problems = read_log(self.log_path)

        self.name_box = w.Text(placeholder="your name", description="Labeler:")
        self.start_button = w.Button(description="Start / resume", button_style="primary")
        self.start_button.on_click(lambda _: self._safe(self.start, self.name_box.value))
        self.image = w.Image(format="png")
        self.class_buttons = [
            w.Button(description=f"{k % 10}: {c}" if len(task.classes) <= 10 else c, layout=w.Layout(width="auto"))
            for k, c in enumerate(task.classes)
        ]
        for k, button in enumerate(self.class_buttons):
            button.on_click(lambda _, k=k: self._safe(self.answer, self.task.classes[k]))
        self.key_box = w.Text(placeholder="type a class number, Enter", description="Key:")
        self.key_box.observe(self._on_key, names="value")
        self.skip_button = w.Button(description="Skip", icon="forward")
        self.skip_button.on_click(lambda _: self._safe(self.skip))
        self.undo_button = w.Button(description="Undo", icon="undo")
        self.undo_button.on_click(lambda _: self._safe(self.undo))
        self.progress = w.IntProgress(min=0, max=len(task.images), description="Progress:")
        self.status = w.HTML()
        if self.problems:
            self.status.value = (
                f"{len(self.problems)} malformed line(s) in the log were skipped "
                f"(first: line {self.problems[0].line}, {self.problems[0].reason})."
            )
        self.widget = w.VBox(
            [
                w.HBox([self.name_box, self.start_button]),
                self.image,
                w.HBox(self.class_buttons, layout=w.Layout(flex_flow="row wrap")),
                w.HBox([self.key_box, self.skip_button, self.undo_button]),
                w.HBox([self.progress, self.status]),
            ]
        )
        self._set_enabled(False)

    # -- actions ---------------------------------------------------------------
    def start(self, labeler: str) -> None:
        """Begin or resume ``labeler``'s session (their own order and answers)."""
        self.labeler = check_labeler(labeler)
        self.order = self.task.order_for(self.labeler)
        records, self.problems = read_log(self.log_path)
        self.answers = replay(records, self.labeler)
        self._set_enabled(True)
        self._advance()

    def answer(self, label: str) -> None:
        """Record ``label`` (a class name) for the image on screen and move on."""
        if label not in self.task.classes:
            raise ValueError(f"unknown class {label!r}; allowed: {', '.join(self.task.classes)}")
        self._record("label", label)

    def skip(self) -> None:
        """Record a skip for the image on screen and move on."""
        self._record("skip", None)

    def undo(self) -> None:
        """Take back the most recent answer or skip; that image comes back next."""
        self._require_session()
        if not self.answers:
            self.status.value = "Nothing to undo."
            return
        append_record(
            self.log_path,
            {"labeler": self.labeler, "item": "", "action": "undo", "time": time.time(), "task": self.task.name},
        )
        records, _ = read_log(self.log_path)
        self.answers = replay(records, self.labeler)
        self._advance()

    # -- internals -------------------------------------------------------------
    def _require_session(self) -> None:
        if self.labeler is None:
            raise RuntimeError("enter your name and press 'Start / resume' first")

    def _record(self, action: str, label: str | None) -> None:
        self._require_session()
        if self.current is None:
            self.status.value = "All images are labeled. Thank you!"
            return
        item = str(self.task.ids[self.current])
        append_record(
            self.log_path,
            {
                "labeler": self.labeler,
                "item": item,
                "action": action,
                "label": label,
                "time": time.time(),
                "task": self.task.name,
            },
        )
        self.answers[item] = label if action == "label" else None
        self._advance()

    def _advance(self) -> None:
        pending = [i for i in self.order if str(self.task.ids[i]) not in self.answers]
        done = len(self.task.images) - len(pending)
        self.progress.value = done
        if not pending:
            self.current = None
            self.status.value = f"Done: {done} of {len(self.task.images)} answered. Thank you!"
            self._set_enabled(False, keep_undo=True)
            return
        self.current = int(pending[0])
        self.image.value = png_bytes(self.task.images[self.current], self.scale)
        self.status.value = f"{done} of {len(self.task.images)} answered ({self.labeler})"

    def _on_key(self, change) -> None:
        text = change["new"].strip()
        if not text:
            return
        self.key_box.value = ""
        if text.isdigit() and int(text) < len(self.task.classes):
            self._safe(self.answer, self.task.classes[int(text)])
        else:
            self.status.value = f"'{text}' is not a class number (0-{len(self.task.classes) - 1})."

    def _safe(self, fn, *args) -> None:
        try:
            fn(*args)
        except (ValueError, RuntimeError) as exc:
            self.status.value = f"<b>{exc}</b>"

    def _set_enabled(self, enabled: bool, keep_undo: bool = False) -> None:
        for button in (*self.class_buttons, self.skip_button, self.key_box):
            button.disabled = not enabled
        self.undo_button.disabled = not (enabled or keep_undo)


def population_task(test, meta, n_per_source: int, seed: int = 0) -> tuple[LabelingTask, np.ndarray]:
    """Chapter 03's task: ``n_per_source`` random MNIST test digits of each writer population
    (``meta["population"]``: "employee" or "student", QMNIST metadata aligned with ``test``),
    employees first. Returns the task and the population of every test digit."""
    pop = meta["population"].to_numpy()
    if len(pop) != len(test.y):
        raise ValueError(f"writer metadata has {len(pop)} rows but the test set {len(test.y)} images")
    rng = np.random.default_rng(seed)
    picks = [rng.choice(np.flatnonzero(pop == p), n_per_source, replace=False) for p in ("employee", "student")]
    index = np.concatenate(picks)
    task = LabelingTask(
        test.x[index].numpy(),
        ["employee"] * n_per_source + ["student"] * n_per_source,
        test.y[index].numpy(),
        tuple(test.info.classes),
        name=f"mnist-employees-vs-students-{n_per_source}",
    )
    return task, pop
