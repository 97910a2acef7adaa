"""The reproduction scorecard: published headline figures next to what our runs measured.

Numbers come only from ``results/<profile>/<notebook>.json``; a claim whose results file or
key is missing is shown as *not yet*. The published column quotes
``shared/reference/published_figures.md`` with its citation key.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .results import load_all

STATUSES = ("reproduced", "partly", "not yet")
PROFILE_ORDER = ("gpu", "cpu")  # the fullest run wins; smoke runs never count


@dataclass(frozen=True)
class Measured:
    value: str
    status: str
    why: str = ""


@dataclass(frozen=True)
class Claim:
    key: str
    claim: str
    published: str
    cite: str
    notebook: str
    judge: Callable[[dict], Measured | None]


def _get(record: dict, *keys):
    value = record
    for key in keys:
        if not isinstance(value, dict) or key not in value or value[key] is None:
            return None
        value = value[key]
    return value


def _pts(x: float) -> str:
    return f"{x:+.1f} pts" if x < 0 else f"{x:.1f} pts"


# ----------------------------------------------------------------------------- judges
def _imagenet_drop(r: dict) -> Measured | None:
    median, top = _get(r, "imagenetv2_median_drop"), _get(r, "imagenetv2_top_model")
    if median is None:
        return None
    status = "reproduced" if 11 <= median <= 14 else "partly"
    text = f"median drop {median:.1f} pts over the testbed's models"
    if isinstance(top, dict) and "drop" in top:
        text += f"; {top.get('model', 'top model')}: {top['drop']:.1f} pts"
    return Measured(text, status, "recomputed from the testbed CSV (val vs MatchedFrequency)")


def _mnist_matched_vs_shifted(r: dict) -> Measured | None:
    matched, shifted = _get(r, "matched_drop"), _get(r, "shifted_drop")
    lo_hi = _get(r, "matched_drop_ci")
    if matched is None or shifted is None:
        return None
    inside = lo_hi is not None and lo_hi[0] <= 0 <= lo_hi[1]
    status = "reproduced" if inside and abs(shifted) > abs(matched) else "partly"
    return Measured(f"matched rebuild {_pts(matched)} (95% CI {lo_hi[0]:.1f} to {lo_hi[1]:.1f}); "
                    f"shifted {_pts(shifted)}" if lo_hi else f"matched {_pts(matched)}, shifted {_pts(shifted)}",
                    status, "MNIST writers (QMNIST metadata), our zoo")


def _adaptive(r: dict) -> Measured | None:
    curve = _get(r, "best_of_k_optimism")
    gap = _get(r, "worst_case_adaptive_gap")
    if curve is None:
        return None
    k_max = max(curve, key=lambda k: int(k))
    text = f"best-of-{k_max} optimism {curve[k_max]:.2f} pts"
    if gap is not None:
        text += f"; worst-case adaptive attack {gap:.1f} pts"
    status = "reproduced" if abs(curve[k_max]) < 1.0 else "partly"
    return Measured(text, status, "simulated test-set reuse on our zoo")


def _robust(published_clean: float, published_robust: float, eps_text: str):
    def judge(r: dict) -> Measured | None:
        clean, robust = _get(r, "clean_acc"), _get(r, "robust_acc")
        if clean is None or robust is None:
            return None
        clean, robust = (100 * clean if clean <= 1 else clean), (100 * robust if robust <= 1 else robust)
        gap = published_robust - robust
        status = "reproduced" if gap <= 2 else ("partly" if gap <= 10 else "not yet")
        return Measured(f"clean {clean:.1f}%, robust {robust:.1f}% ({r.get('attack', 'PGD')}, {eps_text})",
                        status, f"{gap:.1f} pts below the published robust accuracy" if gap > 0 else "")
    return judge


def _effective_robustness(r: dict) -> Measured | None:
    groups = _get(r, "effective_robustness_by_group")
    if not groups:
        return None
    flat = {g: (v if not isinstance(v, dict) else v.get("mean")) for g, v in groups.items()}
    text = ", ".join(f"{g}: {v:+.1f} pts" for g, v in flat.items() if isinstance(v, (int, float)))
    return Measured(text, "partly", "check the chapter for the per-shift picture")


def _humans(r: dict) -> Measured | None:
    labelers = _get(r, "labelers")
    if not labelers:
        return None
    drops = sorted(100 * (x["employee_accuracy"] - x["student_accuracy"]) for x in labelers)
    median = drops[len(drops) // 2] if len(drops) % 2 else (drops[len(drops) // 2 - 1] + drops[len(drops) // 2]) / 2
    n = sum(int(x["employee_answered"] + x["student_answered"]) for x in labelers)
    return Measured(f"{len(labelers)} labeler(s), median drop employees -> students {_pts(median)} ({n} answers)",
                    "reproduced" if abs(median) < 1 else "partly", "MNIST writers, not ImageNet; small samples")


def _samples_needed(r: dict) -> Measured | None:
    slope, gap = _get(r, "robust_samples_loglog_slope"), _get(r, "robust_gap_smallest_n")
    if slope is None:
        return None
    text = f"Gaussian model: robust samples grow as d^{slope:.2f} (standard: flat in d)"
    if gap is not None:
        text += f"; images: robust train-test gap {100 * gap:.0f} pts at the smallest training set"
    return Measured(text, "reproduced" if 0.35 <= slope <= 0.6 else "partly",
                    "averaged-mean learner (upper-bound side only; the lower bound is not simulated)")


def _rst(r: dict) -> Measured | None:
    rst, lab, ceiling = (_get(r, f"robust_acc_{k}") for k in ("rst", "labeled_only", "ceiling"))
    if rst is None or lab is None:
        return None
    gain = 100 * (rst - lab)
    text = f"RST {100 * rst:.1f}% vs labeled-only {100 * lab:.1f}% ({_pts(gain)})"
    if ceiling is not None:
        text += f", true-label ceiling {100 * ceiling:.1f}%"
    cifar = "CIFAR" in str(r.get("data_source", ""))
    ok = gain >= 5 and (ceiling is None or 100 * (ceiling - rst) <= 5)
    status = "reproduced" if ok and cifar else ("partly" if gain > 0 else "not yet")
    return Measured(text, status, "" if cifar else "MNIST stand-in, not CIFAR-10 with 500K extra images")


def _fraction_key(k) -> float:
    return float(str(k).rstrip("%")) / (100 if str(k).endswith("%") else 1)


def _backdoor(r: dict) -> Measured | None:
    curve = _get(r, "attack_success_by_poison_fraction")
    if not curve:
        return None
    clean = _get(r, "clean_acc_by_poison_fraction") or {}
    points = sorted((_fraction_key(k), v, k) for k, v in curve.items())
    text = ", ".join(f"{100 * f:g}% poisoned: {100 * v:.0f}%" for f, v, _ in points)
    base = clean.get(points[0][2]) if points and points[0][0] == 0 else None
    hits = [f for f, v, k in points if 0 < f <= 0.01 and v >= 0.9
            and (base is None or clean.get(k) is None or base - clean[k] < 0.01)]
    return Measured(text, "reproduced" if hits else "partly",
                    f"first >= 90% success at {100 * hits[0]:g}% poisoned" if hits else "attack success on triggered test images")


def _spurious(r: dict) -> Measured | None:
    cue = _get(r, "spurious_cue_acc")
    if not cue:
        return None
    text = ", ".join(f"cue {k}: {100 * v:.1f}%" for k, v in cue.items() if isinstance(v, (int, float)))
    drop = cue.get("agree", 0) - cue.get("random", 0)
    return Measured(text, "partly" if drop > 0 else "not yet", "planted cue on MNIST, not ImageNet backgrounds")


CLAIMS: tuple[Claim, ...] = (
    Claim("imagenet_drop", "ImageNet models lose accuracy on a new test set",
          "11-14 % top-1 (ImageNetV2)", "recht2019imagenet", "01_accuracy_decomposition", _imagenet_drop),
    Claim("cifar_drop", "CIFAR-10 models lose accuracy on a new test set",
          "3-15 % (CIFAR-10.1)", "recht2019imagenet", "02_rebuilding_a_test_set",
          lambda r: None if _get(r, "acc_original") is None else Measured(
              f"zoo mean {100 * r['acc_original']:.1f}% original vs {100 * r['acc_matched_frequency']:.1f}% "
              "MatchedFrequency rebuild", "partly")),
    Claim("shift_not_noise", "A matched rebuild shows no drop beyond sampling error; a shifted one does",
          "drop is distribution shift, not overfitting", "recht2019imagenet", "01_accuracy_decomposition",
          _mnist_matched_vs_shifted),
    Claim("adaptive_overfitting", "Test-set reuse causes little adaptive overfitting",
          "little evidence of substantial overfitting (Kaggle)", "roelofs2019meta", "01_accuracy_decomposition",
          _adaptive),
    Claim("humans", "Humans label the original and new test sets about equally well",
          "median labeler's drop < 1 % vs 5.4 % for the best model", "shankar2020evaluating",
          "03_humans_vs_models", _humans),
    Claim("madry_mnist", "PGD adversarial training, MNIST, eps = 0.3",
          "clean 98.5 %, 88.0 % under the best attack (PGD-100: 92.5 %)", "madry2018towards",
          "04_adversarial_training", _robust(98.5, 88.0, "eps = 0.3")),
    Claim("madry_cifar", "PGD adversarial training, CIFAR-10, eps = 8/255",
          "clean 87.1 %, best attack 44.0 % (WideResNet)", "madry2018towards",
          "04_adversarial_training@gpu", _robust(87.1, 44.0, "eps = 8/255")),
    Claim("robust_needs_data", "Robust generalization needs more data than standard generalization",
          "on the order of eps^2 sqrt(d) / log d samples vs O(1) (Gaussian model)", "schmidt2018adversarially",
          "05_robustness_needs_data", _samples_needed),
    Claim("rst", "Robust self-training with unlabeled data beats labeled-only robust training",
          "> 5 points over the prior state of the art (62.5 % PGD, CIFAR-10)", "carmon2019unlabeled",
          "06_robust_self_training", _rst),
    Claim("backdoor", "A backdoor works with a small poison rate",
          "near-complete attack success with few poisoned images", "gu2017badnets",
          "07_backdoors_and_spurious_correlations", _backdoor),
    Claim("backgrounds", "Models rely on spurious cues such as the background",
          "ResNet-50: 95.6 % original vs 78.9 % Mixed-Rand backgrounds (ImageNet-9)", "xiao2020noise",
          "07_backdoors_and_spurious_correlations", _spurious),
    Claim("effective_robustness", "Robustness interventions sit on the line; more data lifts models a little",
          "effective robustness ~0 for interventions, small positive for more data", "taori2020measuring",
          "08_effective_robustness", _effective_robustness),
)


def _pick_record(records: list[dict], notebook: str) -> dict | None:
    stem, _, only = notebook.partition("@")
    profiles = (only,) if only else PROFILE_ORDER
    for profile in profiles:
        for record in records:
            if record.get("notebook") == stem and record.get("profile") == profile:
                return record
    return None


def rows(records: list[dict] | None = None) -> list[dict]:
    """One dict per claim: published, ours, profile, device, data source, status."""
    records = load_all() if records is None else records
    out = []
    for claim in CLAIMS:
        record = _pick_record(records, claim.notebook)
        try:
            measured = claim.judge(record) if record else None
        except (KeyError, TypeError, ValueError) as exc:  # a results file without the expected keys
            measured = Measured("results file lacks the expected figures", "not yet", repr(exc))
        source = record.get("data_source") if record else None
        if isinstance(source, dict):
            source = "; ".join(sorted(set(map(str, source.values()))))
        out.append({
            "claim": claim.claim, "published": claim.published, "cite": claim.cite,
            "ours": measured.value if measured else "no results yet",
            "note": measured.why if measured else f"run notebook {claim.notebook.split('@')[0]}",
            "profile": record.get("profile") if record and measured else "",
            "device": record.get("device") if record and measured else "",
            "data_source": source if measured else "",
            "status": measured.status if measured else "not yet",
        })
    return out


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def markdown(records: list[dict] | None = None) -> str:
    """The scorecard page (MyST markdown)."""
    table = rows(records)
    counts = {s: sum(r["status"] == s for r in table) for s in STATUSES}
    lines = [
        "# Reproduction scorecard", "",
        "Each row is a headline figure from the talks behind this course: the published number "
        "with its source, and what our own runs measured, read from `results/<profile>/*.json` "
        "(never typed in by hand). The `gpu` run is shown where one exists, else the `cpu` run.", "",
        f"**{counts['reproduced']} reproduced, {counts['partly']} partly, {counts['not yet']} not yet.**", "",
        "| claim | published | ours | profile | device | data | status |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in table:
        ours = r["ours"] + (f" ({r['note']})" if r["note"] and r["status"] != "not yet" else "")
        lines.append(f"| {_cell(r['claim'])} | {_cell(r['published'])} {{cite}}`{r['cite']}` | {_cell(ours)} | "
                     f"{r['profile']} | {_cell(r['device'])} | {_cell(r['data_source'])} | **{r['status']}** |")
    lines += ["", "Status: *reproduced* when our number matches the published one within the stated "
              "range or tolerance; *partly* when it shows the same effect at a smaller scale or on "
              "other data; *not yet* when no run has produced it."]
    return "\n".join(lines) + "\n"


def summary_markdown(records: list[dict] | None = None) -> str:
    """A short summary for the landing page."""
    table = rows(records)
    counts = {s: sum(r["status"] == s for r in table) for s in STATUSES}
    return (f"Of {len(table)} headline figures, {counts['reproduced']} are reproduced, "
            f"{counts['partly']} partly, and {counts['not yet']} not yet: see the "
            "{doc}`scorecard <scorecard>`.\n")


def write(book_dir: Path, records: list[dict] | None = None) -> tuple[Path, Path]:
    """Write ``scorecard.md`` and ``scorecard_summary.md`` into ``book_dir``."""
    page, summary = book_dir / "scorecard.md", book_dir / "scorecard_summary.md"
    page.write_text(markdown(records))
    summary.write_text(summary_markdown(records))
    return page, summary
