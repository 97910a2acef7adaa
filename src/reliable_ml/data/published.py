"""Published results tables: RobustBench, SQuADShifts and OpenCLIP, each in its upstream layout.

* :func:`robustbench_models`: RobustBench's ``model_info/<dataset>/<threat>/<model>.json``
  entries {cite}`croce2021robustbench`, one row per model. Upstream quirks handled here:
  every accuracy is a *string* (``"59.53"``); ``additional_data`` is true only for *real*
  extra data, while models trained on generated images (DDPM/EDM, "synthetic images") say
  false and name it only in their ``footnote``, so :func:`data_group` splits three groups
  (mostly true: a few entries built on a model trained on generated images, e.g. MeanSparse on
  Bartoldson2024 or ensembles whose robust base uses 50M synthetic images, say true; the footnote
  or the named base model decides); ``external`` holds a stronger (adaptive or original) attack's
  figure where one was recorded and ``unreliable`` marks entries whose AutoAttack figure is known
  to overstate, so ``strongest`` = min(AutoAttack, ``external``);
  six CIFAR-10 L-inf entries store ``eps`` as ``"0.031"`` (about 7.9/255) instead of
  ``"8/255"`` and one more says so only in its footnote: they are kept, flagged in
  ``eps_0031``, so that an analysis can leave them out.
* :func:`robustbench_corruptions`: CIFAR-10-C accuracy per model, corruption and severity
  (``cifar10/corruptions/unaggregated_results.csv``, a two-row header).
* :func:`squadshifts_results`: F1 and EM of 95 SQuAD v1.1 models and 3 humans on the SQuAD
  test set and four new test sets {cite}`miller2020effect` (values are strings upstream).
* :func:`openclip_results`: zero-shot accuracy of OpenCLIP/CLIP models on 38 datasets
  {cite}`radford2021learning`; :data:`OPENCLIP_COLUMNS` maps the shifts of chapter 8 to its
  column names (fractions upstream, percentages here).

Every loader checks what it reads and raises ``DataCorrupt`` naming the file and the problem;
a missing file raises ``DataUnavailable`` (after trying the checksummed download).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd

from reliable_ml.data.files import _files_under, ensure_file
from reliable_ml.data.root import DataCorrupt, data_root

ROBUSTBENCH_DATASETS = ("cifar10", "cifar100", "imagenet")
ROBUSTBENCH_THREATS = ("Linf", "L2", "corruptions")
ROBUSTBENCH_GROUPS = ("CIFAR-10 only", "generated data", "real extra data")
# Words by which a footnote names training on generated images (DDPM/EDM samples).
GENERATED_PATTERN = re.compile(r"\b(synthetic|generated|ddpm|edm|diffusion)\b", re.IGNORECASE)
EPS_0031_PATTERN = re.compile(r"0\.031\b")
# How a footnote names the model an entry is built on (a post-hoc operator, a fine-tuned copy).
BASE_MODEL_PATTERN = re.compile(
    r"(?:based on the model|adversarially trained model)\s+([A-Za-z0-9_.\-]+?)\.?(?:\s|$)", re.I
)
MISSING_TEXT = ("", "none", "null", "n/a", "nan")  # how upstream spells "no reported figure"
TRAINING_SET = {"cifar10": "CIFAR-10 only", "cifar100": "CIFAR-100 only", "imagenet": "ImageNet only"}
SQUAD_SETS = ("new-wiki", "nyt", "reddit", "amazon")
SQUAD_ALL = ("test", *SQUAD_SETS)
# chapter 8's shift name -> (OpenCLIP column, testbed column of the same shifted test set)
OPENCLIP_COLUMNS: dict[str, tuple[str, str]] = {
    "val": ("ImageNet 1k", "val"),
    "imagenetv2-matched-frequency": ("ImageNet v2", "imagenetv2-matched-frequency-format-val"),
    "imagenet-sketch": ("ImageNet Sketch", "imagenet-sketch"),
    "imagenet-r": ("ImageNet-R", "imagenet-r"),
    "imagenet-a": ("ImageNet-A", "imagenet-a"),
    "objectnet": ("ObjectNet", "objectnet-1.0-beta"),
}


def _number(value, path: Path, field: str, lo: float = 0.0, hi: float = 100.0) -> float:
    """A RobustBench/SQuADShifts figure stored as a string (or number), checked to lie in [lo, hi]."""
    if isinstance(value, bool):
        raise DataCorrupt(path, f"{field} is a boolean ({value!r}), expected a number in {lo:g}..{hi:g}")
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise DataCorrupt(path, f"{field} = {value!r} is not a number") from None
    if not np.isfinite(x) or not lo <= x <= hi:
        raise DataCorrupt(path, f"{field} = {value!r} lies outside {lo:g}..{hi:g}")
    return x


def _flag(value, path: Path, field: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise DataCorrupt(path, f"{field} = {value!r}, expected true or false")


def uses_generated_data(footnote: str | None) -> bool:
    """Whether a RobustBench footnote says the model was trained on generated images."""
    return bool(footnote) and bool(GENERATED_PATTERN.search(footnote))


def base_model(footnote: str | None) -> str:
    """The model id a RobustBench footnote says the entry is built on ("Based on the model X",
    "... to the adversarially trained model X"), or ``""``."""
    m = BASE_MODEL_PATTERN.search(footnote or "")
    return m.group(1) if m else ""


def data_group(
    additional_data: bool, footnote: str | None, own: str = "CIFAR-10 only", base_group: str | None = None
) -> str:
    """One of :data:`ROBUSTBENCH_GROUPS`, by the data the *robust* model was trained on:
    ``generated data`` when the footnote names synthetic/DDPM/EDM images (even where
    ``additional_data`` is true, e.g. ensembles whose robust base classifier uses 50M synthetic
    images), else ``base_group`` (the group of the model the footnote says the entry is built on,
    :func:`base_model`) when given, else ``real extra data`` when RobustBench flags
    ``additional_data`` (real extra images, e.g. 500K Tiny Images), else ``own`` (the training set
    only: ``CIFAR-10 only``, or as :data:`TRAINING_SET` says for other data sets)."""
    if uses_generated_data(footnote):
        return "generated data"
    if base_group is not None:
        if base_group not in (*ROBUSTBENCH_GROUPS, *TRAINING_SET.values()):
            raise ValueError(f"unknown base group {base_group!r}; allowed: {', '.join(ROBUSTBENCH_GROUPS)}")
        return base_group
    return "real extra data" if additional_data else own


def _read_json(path: Path):
    try:
        return json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataCorrupt(path, f"not valid JSON: {exc}") from exc


def robustbench_models(
    dataset: str = "cifar10", threat: str = "Linf", root: Path | str | None = None, download: bool = True
) -> pd.DataFrame:
    """RobustBench's entries for ``dataset`` and ``threat``, one row per model (index: model id).

    Columns: ``clean`` and ``robust`` (%, AutoAttack accuracy for ``Linf``/``L2``, corruption
    accuracy for ``corruptions``), ``reported`` (the paper's own figure, %), ``external`` (%, a
    stronger attack's figure recorded by RobustBench, e.g. APGD with BPDA, or NaN) and
    ``strongest`` (min of ``robust`` and ``external``), ``additional_data``, ``generated_data``
    (from the footnote), ``base_model`` (:func:`base_model`), ``group`` (:func:`data_group`, an
    entry built on a listed base model taking that model's group), ``eps`` (as stored),
    ``eps_0031`` (stored or footnoted as 0.031), ``unreliable`` (RobustBench's flag: the
    AutoAttack figure is known to overstate), ``architecture``, ``venue``, ``year``,
    ``footnote``, ``name``.
    Reads every ``*.json`` of the folder when it is there, else the files listed in the
    manifest (downloading them).
    """
    if dataset not in ROBUSTBENCH_DATASETS:
        raise ValueError(f"unknown RobustBench dataset {dataset!r}; allowed: {', '.join(ROBUSTBENCH_DATASETS)}")
    if threat not in ROBUSTBENCH_THREATS:
        raise ValueError(f"unknown RobustBench threat model {threat!r}; allowed: {', '.join(ROBUSTBENCH_THREATS)}")
    prefix = f"robustbench/model_info/{dataset}/{threat}/"
    folder = data_root(root) / prefix
    rels = (
        sorted(prefix + p.name for p in folder.glob("*.json"))
        if folder.is_dir()
        else [r for r in _files_under(prefix) if r.endswith(".json")]
    )
    if not rels and not folder.is_dir():
        raise ValueError(f"RobustBench lists no {dataset} {threat} models (none in the manifest)")
    if not rels:
        raise DataCorrupt(folder, "no model entries (*.json) in the folder")
    metric = "corruptions_acc" if threat == "corruptions" else "autoattack_acc"
    rows = {}
    for rel in rels:
        path = ensure_file(rel, root, download)
        entry = _read_json(path)
        if not isinstance(entry, dict):
            raise DataCorrupt(path, f"expected a JSON object, got {type(entry).__name__}")
        missing = [k for k in ("clean_acc", metric, "additional_data") if k not in entry]
        if missing:
            raise DataCorrupt(path, f"missing fields {missing}")
        footnote = entry.get("footnote") or ""
        additional = _flag(entry["additional_data"], path, "additional_data")
        eps = str(entry.get("eps", ""))
        venue = str(entry.get("venue", ""))
        year = re.search(r"(19|20)\d\d", venue) or re.search(r"(19|20)\d\d", Path(rel).stem)
        robust = _number(entry[metric], path, metric)
        external = (
            np.nan
            if str(entry.get("external")).strip().lower() in MISSING_TEXT
            else _number(entry["external"], path, "external")
        )
        rows[Path(rel).stem] = {
            "clean": _number(entry["clean_acc"], path, "clean_acc"),
            "robust": robust,
            "external": external,
            "strongest": robust if np.isnan(external) else min(robust, external),
            "reported": (
                np.nan
                if str(entry.get("reported")).strip().lower() in MISSING_TEXT
                else _number(entry["reported"], path, "reported")
            ),
            "additional_data": additional,
            "generated_data": uses_generated_data(footnote),
            "base_model": base_model(footnote),
            "group": data_group(additional, footnote, TRAINING_SET[dataset]),
            "eps": eps,
            "eps_0031": eps.strip() == "0.031" or bool(EPS_0031_PATTERN.search(footnote)),
            "unreliable": bool(entry.get("unreliable") or False),
            "architecture": str(entry.get("architecture", "")),
            "venue": venue,
            "year": int(year.group(0)) if year else np.nan,
            "footnote": footnote,
            "name": str(entry.get("name", "")),
        }
    frame = pd.DataFrame.from_dict(rows, orient="index")
    for m in frame.index[frame["base_model"].isin(frame.index) & ~frame["generated_data"]]:
        frame.loc[m, "group"] = frame.loc[frame.loc[m, "base_model"], "group"]  # the base model's data
    frame.index.name = "model"
    return frame


def robustbench_corruptions(root: Path | str | None = None, download: bool = True) -> pd.DataFrame:
    """CIFAR-10-C accuracy (%) per model (rows) and ``(corruption, severity)`` (columns)."""
    path = ensure_file("robustbench/model_info/cifar10/corruptions/unaggregated_results.csv", root, download)
    try:
        frame = pd.read_csv(path, header=[0, 1], index_col=0)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, ValueError) as exc:
        raise DataCorrupt(path, str(exc)) from exc
    try:
        severities = sorted({int(s) for _, s in frame.columns})
    except ValueError as exc:
        raise DataCorrupt(path, f"second header row must hold severities 1..5: {exc}") from exc
    if not set(severities) <= {1, 2, 3, 4, 5}:
        raise DataCorrupt(path, f"severities {severities}; CIFAR-10-C has severities 1..5")
    values = frame.apply(pd.to_numeric, errors="coerce")
    if values.isna().any().any() or ((values < 0) | (values > 1)).any().any():
        raise DataCorrupt(path, "accuracies must be fractions in 0..1 with no gaps")
    values.columns = pd.MultiIndex.from_tuples(
        [(c, int(s)) for c, s in values.columns], names=["corruption", "severity"]
    )
    values.index.name = "model"
    return 100 * values


def squadshifts_results(root: Path | str | None = None, download: bool = True) -> pd.DataFrame:
    """SQuADShifts: one row per model or human (index: name, made unique), columns
    ``kind`` (``model``/``human``), ``<set>_f1`` and ``<set>_em`` (%) for ``test`` (SQuAD v1.1)
    and :data:`SQUAD_SETS`."""
    path = ensure_file("squadshifts/results.json", root, download)
    doc = _read_json(path)
    if not isinstance(doc, dict) or not isinstance(doc.get("models"), list) or not isinstance(doc.get("humans"), list):
        raise DataCorrupt(path, "expected an object with lists 'models' and 'humans'")
    cols = [f"{s}_{m}" for s in SQUAD_ALL for m in ("f1", "em")]
    rows, names = [], []
    for kind in ("model", "human"):
        for i, entry in enumerate(doc[kind + "s"]):
            if not isinstance(entry, dict) or "name" not in entry:
                raise DataCorrupt(path, f"{kind} entry {i} has no name")
            missing = [c for c in cols if c not in entry]
            if missing:
                raise DataCorrupt(path, f"{kind} {entry['name']!r} lacks {missing}")
            rows.append({"kind": kind, **{c: _number(entry[c], path, f"{entry['name']}: {c}") for c in cols}})
            names.append(str(entry["name"]))
    if not rows:
        raise DataCorrupt(path, "no entries")
    seen: dict[str, int] = {}
    unique = []
    for n in names:  # a few leaderboard names repeat: keep every entry, numbered
        seen[n] = seen.get(n, 0) + 1
        unique.append(n if seen[n] == 1 else f"{n} #{seen[n]}")
    frame = pd.DataFrame(rows, index=pd.Index(unique, name="name"))
    return frame


def openclip_results(root: Path | str | None = None, download: bool = True) -> pd.DataFrame:
    """OpenCLIP's zero-shot results: one row per ``name/pretrained`` (index ``model``), the
    columns of :data:`OPENCLIP_COLUMNS` renamed to chapter 8's shift names, in %."""
    path = ensure_file("open_clip/docs/openclip_results.csv", root, download)
    try:
        frame = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise DataCorrupt(path, str(exc)) from exc
    wanted = ["name", "pretrained", *(c for c, _ in OPENCLIP_COLUMNS.values())]
    missing = [c for c in wanted if c not in frame.columns]
    if missing:
        raise DataCorrupt(path, f"missing columns {missing}; found {list(frame.columns)[:8]}...")
    out = pd.DataFrame(
        {shift: pd.to_numeric(frame[col], errors="coerce") for shift, (col, _) in OPENCLIP_COLUMNS.items()}
    )
    bad = out.notna() & ((out < 0) | (out > 1))
    if bad.any().any():
        raise DataCorrupt(path, f"accuracies must be fractions in 0..1; e.g. {out[bad].stack().iloc[:3].to_dict()}")
    out.index = pd.Index(frame["name"].astype(str) + "/" + frame["pretrained"].astype(str), name="model")
    if out.index.duplicated().any():
        raise DataCorrupt(path, f"duplicate models {list(out.index[out.index.duplicated()][:3])}")
    return 100 * out
