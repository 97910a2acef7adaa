"""How good are the labels? Multi-label ImageNet (ReaL), reviewed label errors, confident learning.

Sources: Beyer et al. 2020 ("Are we done with ImageNet?", the ReaL labels); Northcutt,
Athalye, Mueller 2021 ("Pervasive label errors in test sets"); Northcutt, Jiang, Chuang 2021
("Confident learning", the rule behind ``cleanlab``); Tsipras et al. 2020 ("From ImageNet to
image classification"). Functions take plain arrays (loading lives in
``reliable_ml.data.label_errors``) and return percentages where they say so.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch
from scipy import stats
from torch import nn

#: the paper's rule: a reviewed example is a confirmed error when fewer than 3 of its
#: 5 reviewers chose the given label (Northcutt, Athalye, Mueller 2021, section 3)
MIN_VOTES_FOR_GIVEN = 3


# --------------------------------------------------------------------------- ReaL labels
def join_by_name(names: Sequence[str], wanted: Sequence[str]) -> np.ndarray:
    """Indices ``idx`` with ``names[idx[i]] == wanted[i]``: reorders arrays kept in the order of
    ``names`` into the order of ``wanted``. Raises ``ValueError`` naming a missing name."""
    position = {name: i for i, name in enumerate(names)}
    if len(position) != len(names):
        raise ValueError("names must be unique to join on them")
    missing = [w for w in wanted if w not in position]
    if missing:
        raise ValueError(f"{len(missing)} names to join are absent (first: {missing[0]!r})")
    return np.array([position[w] for w in wanted], dtype=np.int64)


def real_label_shares(real: Sequence[Sequence[int]]) -> dict:
    """Shares (in %) of images with no acceptable ReaL label, with one, and with several.

    ``multi_pct_of_nonempty`` = #(|ReaL| >= 2) / #(|ReaL| >= 1): the share among images that
    keep at least one label (the ones ReaL accuracy is computed on).
    """
    sizes = np.array([len(r) for r in real])
    if sizes.size == 0:
        raise ValueError("real must hold at least one image's label list")
    nonempty = int((sizes > 0).sum())
    return {
        "n": int(sizes.size),
        "empty_pct": 100 * float((sizes == 0).mean()),
        "one_pct": 100 * float((sizes == 1).mean()),
        "multi_pct": 100 * float((sizes >= 2).mean()),
        "multi_pct_of_nonempty": 100 * float((sizes >= 2).sum() / max(nonempty, 1)),
        "max_labels": int(sizes.max()),
    }


def _check_aligned(real: Sequence, labels: np.ndarray, what: str = "labels") -> None:
    if len(real) != len(labels):
        raise ValueError(f"{what} has {len(labels)} entries but real has {len(real)}; join them by file name first")


def original_not_in_real_pct(real: Sequence[Sequence[int]], labels: np.ndarray) -> float:
    """Among images with at least one ReaL label, the share (%) whose original label is not one."""
    _check_aligned(real, labels)
    hits = [int(y) in r for r, y in zip(real, labels) if len(r)]
    if not hits:
        raise ValueError("no image has a ReaL label")
    return 100 * (1 - float(np.mean(hits)))


def real_accuracy(top1: np.ndarray, real: Sequence[Sequence[int]]) -> float:
    """ReaL accuracy (%): the prediction is any accepted label; images with none are left out.

    :math:`\\text{acc}_\\text{ReaL} = \\frac{1}{|I|} \\sum_{i \\in I} [\\hat y_i \\in R_i]` over the images
    :math:`I = \\{i: R_i \\neq \\emptyset\\}` that have an accepted label (Beyer et al. 2020).
    """
    _check_aligned(real, top1, "top1")
    hits = [int(p) in r for p, r in zip(top1, real) if len(r)]
    if not hits:
        raise ValueError("no image has a ReaL label")
    return 100 * float(np.mean(hits))


def accuracy_table(top5: dict[str, np.ndarray], labels: np.ndarray, real: Sequence[Sequence[int]]) -> pd.DataFrame:
    """Per model: ``top1`` (original labels, %), ``real`` (%), ``gap`` = real - top1, and ranks
    (1 = best) under each; sorted by top-1. ``top5[m]`` is ``(N, 5)`` with column 0 the top-1."""
    _check_aligned(real, labels)
    rows = {
        m: {"top1": 100 * float((p[:, 0] == labels).mean()), "real": real_accuracy(p[:, 0], real)}
        for m, p in top5.items()
    }
    table = pd.DataFrame.from_dict(rows, orient="index").sort_values("top1")
    table["gap"] = table["real"] - table["top1"]
    table["rank_top1"] = table["top1"].rank(ascending=False, method="min").astype(int)
    table["rank_real"] = table["real"].rank(ascending=False, method="min").astype(int)
    return table


SLOPE_WORDS = {
    "lower": "The interval lies below 1: on these models, progress on the original labels "
    "overstates progress on the ReaL labels.",
    "higher": "The interval lies above 1: on these models, progress on the original labels "
    "understates progress on the ReaL labels.",
    "cannot tell": "The interval includes 1: on these models, progress on the original labels neither "
    "clearly overstates nor understates progress on the ReaL labels.",
}


def lead_needed(clean_a: float, clean_b: float, prevalence_pct: float) -> float:
    """How many points model a must lead model b by on the corrected errors for the two to tie at
    a share ``prevalence_pct`` (%) of corrected errors, when a scores ``clean_a`` and b ``clean_b``
    (%) on the clean images: from (1 - pi) clean_a + pi e_a = (1 - pi) clean_b + pi e_b,
    e_a - e_b = (clean_b - clean_a) (1 - pi) / pi (the inverse of :func:`prevalence_crossover`)."""
    if not 0 < prevalence_pct < 100:
        raise ValueError(f"prevalence_pct is a share in % and must lie in (0, 100); got {prevalence_pct!r}")
    pi = prevalence_pct / 100
    return (clean_b - clean_a) * (1 - pi) / pi


def slope_verdict(slope: dict) -> str:
    """One sentence on a :func:`progress_slope` result: is progress over- or understated? The
    words follow the verdict of the slope's interval against 1
    (:func:`reliable_ml.stats.against_reference`), never a comparison of its own."""
    from reliable_ml.stats import against_reference

    v = against_reference(slope["slope"], (slope["ci_low"], slope["ci_high"]), 1.0)
    return SLOPE_WORDS[v.direction]


def progress_slope(x: np.ndarray, y: np.ndarray, n_boot: int = 1000, seed: int = 0) -> dict:
    """Least-squares slope of ``y`` on ``x`` over models, with a 95% bootstrap interval.

    A slope below 1 for ReaL vs top-1 accuracy means a point of progress on the original labels
    buys less than a point on the better labels (Beyer et al. 2020's reading).
    """
    x, y = np.asarray(x, float), np.asarray(y, float)
    if x.shape != y.shape or x.size < 3:
        raise ValueError(f"need matching x and y with at least 3 models; got {x.shape} and {y.shape}")
    rng = np.random.default_rng(seed)
    slope = float(np.polyfit(x, y, 1)[0])
    boots = []
    for _ in range(n_boot):
        idx = rng.integers(0, x.size, x.size)
        if np.ptp(x[idx]) > 0:
            boots.append(np.polyfit(x[idx], y[idx], 1)[0])
    lo, hi = np.percentile(boots, [2.5, 97.5]) if boots else (np.nan, np.nan)
    return {"slope": slope, "ci_low": float(lo), "ci_high": float(hi), "n_models": int(x.size)}


def rank_agreement(a: pd.Series, b: pd.Series) -> dict:
    """Kendall's tau and Spearman's rho between two scores of the same models, and how many
    of the model pairs swap order."""
    a, b = a.align(b, join="inner")
    tau = stats.kendalltau(a, b).statistic
    rho = stats.spearmanr(a, b).statistic
    da = np.sign(a.to_numpy()[:, None] - a.to_numpy()[None, :])
    db = np.sign(b.to_numpy()[:, None] - b.to_numpy()[None, :])
    swapped = int(np.triu((da * db) < 0, 1).sum())
    pairs = len(a) * (len(a) - 1) // 2
    return {"kendall_tau": float(tau), "spearman_rho": float(rho), "pairs_swapped": swapped, "pairs": pairs}


# --------------------------------------------------------------------------- reviewed label errors
def confirmed_mask(reviews: pd.DataFrame, min_votes: int = MIN_VOTES_FOR_GIVEN) -> np.ndarray:
    """Boolean per review row: fewer than ``min_votes`` reviewers chose the given label."""
    return reviews["votes_given"].to_numpy() < min_votes


def label_error_counts(reviews: pd.DataFrame, n_examples: int, min_votes: int = MIN_VOTES_FOR_GIVEN) -> dict:
    """``flagged`` (reviewed), ``confirmed`` (the rule above), and ``confirmed_pct`` of the whole set."""
    if n_examples <= 0:
        raise ValueError(f"n_examples must be positive; got {n_examples}")
    confirmed = int(confirmed_mask(reviews, min_votes).sum())
    return {
        "flagged": int(len(reviews)),
        "confirmed": confirmed,
        "confirmed_pct": 100 * confirmed / n_examples,
        "n": int(n_examples),
    }


def cleaned_labels(
    labels: np.ndarray, reviews: pd.DataFrame, min_votes: int = MIN_VOTES_FOR_GIVEN
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Two cleaned versions of a test set from its reviews.

    Returns ``(keep_removed, labels_corrected, keep_corrected)``: ``removed`` drops every
    confirmed error; ``corrected`` relabels a confirmed error with the suggested label when at
    least ``min_votes`` reviewers chose it, and drops the other confirmed errors (no consensus,
    "neither" or "both").
    """
    confirmed = confirmed_mask(reviews, min_votes)
    ids = reviews["id"].to_numpy()
    keep_removed = np.ones(len(labels), bool)
    keep_removed[ids[confirmed]] = False
    fixable = confirmed & (reviews["votes_guessed"].to_numpy() >= min_votes)
    corrected = labels.copy()
    corrected[ids[fixable]] = reviews["guessed"].to_numpy()[fixable]
    keep_corrected = keep_removed.copy()
    keep_corrected[ids[fixable]] = True
    return keep_removed, corrected, keep_corrected


def accuracy_under_cleaning(top1: dict[str, np.ndarray], labels: np.ndarray, reviews: pd.DataFrame) -> pd.DataFrame:
    """Accuracy (%) per model on the original labels, with confirmed errors removed, and with
    them corrected (see :func:`cleaned_labels`); plus accuracy on the confirmed errors alone,
    scored with the given and with the corrected labels, and (``correctable_given``) on the confirmed
    errors that have a corrected label, scored with the given one. Sorted by original accuracy."""
    keep_removed, corrected, keep_corrected = cleaned_labels(labels, reviews)
    errors = ~keep_removed
    fixed = errors & keep_corrected
    rows = {}
    for m, pred in top1.items():
        if pred.shape != labels.shape:
            raise ValueError(f"model {m!r}: {pred.shape[0]} predictions for {labels.shape[0]} labels")
        rows[m] = {
            "original": 100 * float((pred == labels).mean()),
            "removed": 100 * float((pred == labels)[keep_removed].mean()),
            "corrected": 100 * float((pred == corrected)[keep_corrected].mean()),
            "errors_given": 100 * float((pred == labels)[errors].mean()) if errors.any() else np.nan,
            "errors_corrected": 100 * float((pred == corrected)[fixed].mean()) if fixed.any() else np.nan,
            "correctable_given": 100 * float((pred == labels)[fixed].mean()) if fixed.any() else np.nan,
        }
    return pd.DataFrame.from_dict(rows, orient="index").sort_values("original")


# --------------------------------------------------------------------------- confident learning
def confident_learning_flags(labels: np.ndarray, pred_probs: np.ndarray) -> np.ndarray:
    """The confident-learning rule (Northcutt, Jiang, Chuang 2021), as ``cleanlab`` applies it
    with ``filter_by="confident_learning"``.

    Per class threshold :math:`t_j = \\text{mean}\\{\\hat p_j(x_i) : \\tilde y_i = j\\}`. An
    example's confident classes are :math:`C_i = \\{j: \\hat p_j(x_i) \\ge t_j\\}`; its guessed true
    label is the argmax of :math:`\\hat p(x_i)` if :math:`|C_i| > 1`, the single member if
    :math:`|C_i| = 1`, and none if :math:`C_i` is empty. It is flagged when the guess exists and
    differs from the given label and the model's argmax is not the given label either.
    """
    labels = np.asarray(labels)
    n, k = pred_probs.shape
    if labels.shape != (n,):
        raise ValueError(f"labels has shape {labels.shape}, expected ({n},) to match pred_probs")
    thresholds = np.array([pred_probs[labels == j, j].mean() if (labels == j).any() else 2.0 for j in range(k)])
    confident = pred_probs >= thresholds - 1e-6
    argmax = pred_probs.argmax(1)
    guess = np.where(confident.sum(1) > 1, argmax, confident.argmax(1))
    return confident.any(1) & (guess != labels) & (argmax != labels)


def find_issues(labels: np.ndarray, pred_probs: np.ndarray, filter_by: str = "prune_by_noise_rate") -> np.ndarray:
    """Boolean mask of label issues from ``cleanlab.filter.find_label_issues``."""
    from cleanlab.filter import find_label_issues

    return np.asarray(find_label_issues(labels=np.asarray(labels), pred_probs=pred_probs, filter_by=filter_by), bool)


def score_flags(flagged: np.ndarray, reviews: pd.DataFrame, min_votes: int = MIN_VOTES_FOR_GIVEN) -> dict:
    """Score a boolean ``flagged`` mask against MTurk-confirmed errors (in %).

    ``precision``: confirmed among the flagged examples that were reviewed (the others have no
    verdict); ``precision_lower``: confirmed among all flagged (unreviewed counted as wrong);
    ``recall``: flagged among the confirmed errors. Recall is against *reviewed* errors only:
    errors that nobody flagged for review are invisible to it.
    """
    ids = reviews["id"].to_numpy()
    confirmed_ids = ids[confirmed_mask(reviews, min_votes)]
    if len(ids) and ids.max() >= len(flagged):
        raise ValueError(f"review ids reach {ids.max()} but flagged has {len(flagged)} entries")
    n_flagged = int(flagged.sum())
    reviewed_flagged = int(flagged[ids].sum())
    hits = int(flagged[confirmed_ids].sum())
    pct = lambda a, b: 100 * a / b if b else float("nan")  # noqa: E731
    return {
        "n_flagged": n_flagged,
        "n_flagged_reviewed": reviewed_flagged,
        "hits": hits,
        "n_confirmed": int(len(confirmed_ids)),
        "precision": pct(hits, reviewed_flagged),
        "precision_lower": pct(hits, n_flagged),
        "recall": pct(hits, len(confirmed_ids)),
        "precision_ci": exact_ci(hits, reviewed_flagged),
        "recall_ci": exact_ci(hits, len(confirmed_ids)),
    }


# The authors' released protocol (label-errors repository, examples/Tutorial...py,
# get_label_error_indices_to_match_labelerrors_com): how many errors each test set holds, by data set.
AUTHORS_ERROR_COUNT = {"mnist": "prune_by_class", "cifar10": "num_label_errors"}


def normalized_margin(labels: np.ndarray, pred_probs: np.ndarray) -> np.ndarray:
    """Per example, :math:`\\hat p_{\\tilde y}(x) - \\max_{j \\ne \\tilde y} \\hat p_j(x)`: the given
    label's probability minus the largest other one (Northcutt, Jiang, Chuang 2021, "normalized
    margin"); negative when the model prefers another class. Lowest first = most suspect."""
    labels = np.asarray(labels)
    n, k = pred_probs.shape
    if labels.shape != (n,) or not ((labels >= 0) & (labels < k)).all():
        raise ValueError(f"labels must be {n} class indices in [0, {k}); got shape {labels.shape}")
    others = np.where(np.eye(k, dtype=bool)[labels], -np.inf, pred_probs)
    return pred_probs[np.arange(n), labels] - others.max(1)


def authors_error_count(labels: np.ndarray, pred_probs: np.ndarray, method: str) -> int:
    """How many label errors the authors' released protocol takes from a test set, from the
    uncalibrated confident joint :math:`C` (``cleanlab.count.compute_confident_joint``,
    ``calibrate=False``) of the given labels and out-of-sample probabilities.

    ``"prune_by_class"`` (their MNIST setting): the number of examples ``find_label_issues`` flags
    with that filter and this :math:`C`. ``"num_label_errors"`` (their CIFAR-10 setting, cleanlab
    v1.0's ``latent_estimation.num_label_errors``): :math:`\\lfloor n (1 - \\mathrm{tr}\\,C / \\sum C)
    \\rfloor`, the off-diagonal share of the confident joint scaled to all :math:`n` examples."""
    from cleanlab.count import compute_confident_joint
    from cleanlab.filter import find_label_issues

    if method not in ("prune_by_class", "num_label_errors"):
        raise ValueError(f"method must be 'prune_by_class' or 'num_label_errors'; got {method!r}")
    labels = np.asarray(labels)
    cj = np.asarray(compute_confident_joint(labels, pred_probs, calibrate=False), float)
    if method == "prune_by_class":
        flags = find_label_issues(labels, pred_probs, confident_joint=cj.astype(int), filter_by="prune_by_class")
        return int(np.sum(flags))
    return int((1 - np.trace(cj) / cj.sum()) * len(labels))


def authors_flags(labels: np.ndarray, pred_probs: np.ndarray, method: str) -> np.ndarray:
    """Boolean mask of the examples the authors' released protocol flags (Northcutt, Athalye,
    Mueller 2021; the label-errors repository's ``get_label_error_indices_to_match_labelerrors_com``):
    the :func:`authors_error_count` examples with the lowest :func:`normalized_margin` over the
    whole test set (ties broken by index)."""
    count = authors_error_count(labels, pred_probs, method)
    flagged = np.zeros(len(labels), bool)
    flagged[np.argsort(normalized_margin(labels, pred_probs), kind="stable")[:count]] = True
    return flagged


def recovery(score: dict, published: int) -> dict:
    """How much of a paper's confirmed set a re-run's flags recover (a :func:`score_flags` dict).

    Only reviewed examples can be confirmed errors, so a flag nobody reviewed is none of the
    paper's confirmed errors: recovery is exactly ``found = hits`` of ``published``, and
    ``all_found`` says whether every one is among the flags. ``not_reviewed`` counts the flags
    nobody reviewed: possible further errors, with no verdict either way. ``recall_ci`` is the
    exact (Clopper-Pearson) 95% interval of found / published in %, for a population of errors
    like these; the counts themselves are exact given the released votes."""
    try:
        hits, flagged, reviewed = (int(score[k]) for k in ("hits", "n_flagged", "n_flagged_reviewed"))
    except KeyError as err:
        raise ValueError(f"score lacks {err}; need hits, n_flagged and n_flagged_reviewed (score_flags)") from None
    published = int(published)
    if not 0 <= hits <= min(reviewed, published) or reviewed > flagged:
        raise ValueError(
            f"need 0 <= hits <= n_flagged_reviewed <= n_flagged and hits <= published, "
            f"got hits {hits}, reviewed {reviewed}, flagged {flagged}, published {published}"
        )
    return {
        "found": hits,
        "published": published,
        "missed": published - hits,
        "all_found": hits == published,
        "recall_ci": exact_ci(hits, published),
        "not_reviewed": flagged - reviewed,
    }


def recovery_phrase(r: dict) -> str:
    """Words for a :func:`recovery` dict, from its exact counts: "every one of the N confirmed
    errors" when all were found, else "K of the N confirmed errors (M missed)"."""
    if r["all_found"]:
        return f"every one of the {r['published']:,} confirmed errors"
    return f"{r['found']:,} of the {r['published']:,} confirmed errors ({r['missed']:,} missed)"


def exact_ci(k: int, n: int, alpha: float = 0.05) -> list[float]:
    """The Clopper-Pearson (1 - alpha) interval of k / n in %, ``[nan, nan]`` when n = 0: with
    15 confirmed errors, what a recall of 5 of 15 can tell."""
    from reliable_ml.stats import clopper_pearson

    if n == 0:
        return [float("nan"), float("nan")]
    lo, hi = clopper_pearson(int(k), int(n), alpha)
    return [100 * float(lo), 100 * float(hi)]


# --------------------------------------------------------------------------- our own out-of-sample model
def summarize_seeds(scores: Sequence[dict]) -> dict:
    """Mean of each numeric field over seeds (one :func:`score_flags` dict per seed, maybe with
    ``accuracy``), plus ``precision_sd`` and ``recall_sd`` (sample SD over seeds; 0 for one
    seed), ``seeds``, and ``per_seed``: each seed's counts with their exact (Clopper-Pearson)
    intervals, which describe what the few reviewed errors can tell; the SD describes only how
    much the model's training varies."""
    if not scores:
        raise ValueError("scores must hold at least one seed's result")
    frame = pd.DataFrame(list(scores)).select_dtypes("number")
    out = {k: float(v) for k, v in frame.mean().items()}
    for col in ("precision", "recall"):
        out[f"{col}_sd"] = float(frame[col].std(ddof=1)) if len(frame) > 1 else 0.0
    out["seeds"] = len(frame)
    counted = [s for s in scores if {"hits", "n_flagged_reviewed", "n_confirmed"} <= set(s)]
    out["per_seed"] = [
        {k: int(s[k]) for k in ("hits", "n_flagged_reviewed", "n_flagged", "n_confirmed") if k in s}
        | {
            "precision_ci": exact_ci(s["hits"], s["n_flagged_reviewed"]),
            "recall_ci": exact_ci(s["hits"], s["n_confirmed"]),
        }
        for s in counted
    ]
    return out


def error_categories(reviews: pd.DataFrame, min_votes: int = MIN_VOTES_FOR_GIVEN) -> dict:
    """How the confirmed errors split by what the reviewers chose instead of the given label:
    ``correctable`` (at least ``min_votes`` chose the suggested label: these get a corrected
    label), ``both`` (at least ``min_votes`` chose "both"), ``neither`` (at least ``min_votes``
    chose "neither"), ``no_majority`` (none of these), and ``confirmed``, their total."""
    conf = confirmed_mask(reviews, min_votes)
    guessed = reviews["votes_guessed"].to_numpy() >= min_votes
    both = reviews["votes_both"].to_numpy() >= min_votes
    neither = reviews["votes_neither"].to_numpy() >= min_votes
    return {
        "confirmed": int(conf.sum()),
        "correctable": int((conf & guessed).sum()),
        "both": int((conf & both & ~guessed).sum()),
        "neither": int((conf & neither & ~guessed & ~both).sum()),
        "no_majority": int((conf & ~guessed & ~both & ~neither).sum()),
    }


def prevalence_crossover(clean_a: float, errors_a: float, clean_b: float, errors_b: float) -> float:
    """The share pi (%) of corrected label errors in a test set at which model a's accuracy
    equals model b's, when the set mixes clean images (accuracies ``clean_*``, %) and corrected
    errors (``errors_*``, %, against the corrected labels) in proportions 1 - pi and pi:
    acc(pi) = (1 - pi) clean + pi errors, so pi* = (clean_b - clean_a) / ((clean_b - clean_a) +
    (errors_a - errors_b)). NaN when the lines do not cross inside (0, 100)."""
    gap_clean, gap_err = clean_b - clean_a, errors_a - errors_b
    if gap_clean + gap_err == 0:
        return float("nan")
    pi = gap_clean / (gap_clean + gap_err)
    return 100 * pi if 0 < pi < 1 else float("nan")


def mlp(
    in_features: int = 784, hidden: int = 256, num_classes: int = 10, mean: float = 0.1307, std: float = 0.3081
) -> nn.Sequential:
    """``[0, 1]`` images -> normalize -> flatten -> (Linear -> ReLU) -> logits; ``hidden=0`` is
    multinomial logistic regression."""
    from reliable_ml.models.nets import Normalize

    layers: list[nn.Module] = [Normalize((mean,), (std,)), nn.Flatten()]
    if hidden:
        layers += [nn.Linear(in_features, hidden), nn.ReLU(), nn.Linear(hidden, num_classes)]
    else:
        layers += [nn.Linear(in_features, num_classes)]
    return nn.Sequential(*layers)


def _train(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, epochs: int, batch_size: int, lr: float, gen: torch.Generator
) -> nn.Module:
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    for _ in range(epochs):
        order = torch.randperm(len(x), generator=gen)
        for start in range(0, len(x), batch_size):
            idx = order[start : start + batch_size].to(x.device)
            loss = nn.functional.cross_entropy(model(x[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    return model


def cross_val_pred_probs(
    x_train: torch.Tensor,
    y_train: torch.Tensor,
    x_test: torch.Tensor,
    y_test: torch.Tensor,
    folds: int = 5,
    hidden: int = 256,
    pretrain_epochs: int = 1,
    finetune_epochs: int = 1,
    batch_size: int = 128,
    lr: float = 1e-3,
    seed: int = 0,
    progress: bool = True,
) -> np.ndarray:
    """Out-of-sample class probabilities for every test example, ``(N_test, K)``.

    As in Northcutt et al. 2021: an :func:`mlp` is pre-trained on the training set (no test
    label reaches it); the test set is split into ``folds`` folds, and for each fold a copy of
    the pre-trained model is fine-tuned on the other test folds and predicts the held-out fold.
    So no example's own label ever reaches the model that scores it. Inputs in ``[0, 1]``.
    """
    if folds < 2:
        raise ValueError(f"folds must be at least 2; got {folds}")
    if len(x_test) != len(y_test) or len(x_train) != len(y_train):
        raise ValueError("images and labels differ in length")
    import copy

    from reliable_ml.util.progress import tqdm

    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    k = int(max(y_train.max(), y_test.max())) + 1
    base = _train(
        mlp(x_train[0].numel(), hidden, k).to(x_train.device), x_train, y_train, pretrain_epochs, batch_size, lr, gen
    )
    fold_of = torch.randperm(len(x_test), generator=gen) % folds
    probs = np.zeros((len(x_test), k))
    for f in tqdm(range(folds), desc="cross-validation folds", disable=not progress):
        held = fold_of == f
        model = _train(copy.deepcopy(base), x_test[~held], y_test[~held], finetune_epochs, batch_size, lr, gen)
        with torch.no_grad():
            probs[held.numpy()] = torch.softmax(model(x_test[held]), 1).double().cpu().numpy()
    return probs


# --------------------------------------------------------------------------- figures
def plot_real_vs_top1(table: pd.DataFrame, source: str):
    """Left: ReaL vs original top-1 accuracy per model, with y = x and the least-squares line.
    Right: the gap (ReaL - top-1) against top-1. Returns the figure."""
    import matplotlib.pyplot as plt

    fig, (ax, bx) = plt.subplots(1, 2, figsize=(11, 4.4), layout="constrained")
    ax.scatter(table["top1"], table["real"], s=18)
    lo, hi = table[["top1", "real"]].min().min() - 1, table[["top1", "real"]].max().max() + 1
    ax.plot([lo, hi], [lo, hi], ls="--", color="0.5", lw=1, label="y = x")
    slope, icpt = np.polyfit(table["top1"], table["real"], 1)
    ax.plot(
        [lo, hi], [slope * lo + icpt, slope * hi + icpt], color="C3", lw=1.2, label=f"least squares (slope {slope:.2f})"
    )
    ax.set(
        xlabel="top-1 accuracy, original labels (%)",
        ylabel="ReaL accuracy (%)",
        title="ImageNet validation: original vs ReaL labels",
    )
    ax.legend(loc="lower right")
    bx.scatter(table["top1"], table["gap"], s=18)
    bx.axhline(0, color="0.5", lw=1, ls="--")
    bx.set(
        xlabel="top-1 accuracy, original labels (%)",
        ylabel="ReaL - top-1 (points)",
        title="Gain from better labels as models improve",
    )
    fig.text(0.01, -0.02, f"Data: {source}", ha="left", va="top", fontsize=8, color="0.35")
    return fig


def plot_rank_shift(
    before: pd.Series, after: pd.Series, source: str, before_label: str, after_label: str, top: int = 20
):
    """Bump chart of the ``top`` models by ``before``: rank under ``before`` (left) and under
    ``after`` (right, ranked among all models). Lines that cross are rank swaps."""
    import matplotlib.pyplot as plt

    rank_b = before.rank(ascending=False, method="min")
    rank_a = after.rank(ascending=False, method="min")
    chosen = rank_b.sort_values().index[:top]
    fig, ax = plt.subplots(figsize=(6.4, 0.28 * len(chosen) + 1.6))
    for m in chosen:
        moved = rank_a[m] != rank_b[m]
        ax.plot([0, 1], [rank_b[m], rank_a[m]], color="C3" if moved else "0.6", lw=1.4 if moved else 0.8)
        ax.text(-0.03, rank_b[m], m, ha="right", va="center", fontsize=7)
        ax.text(1.03, rank_a[m], f"{int(rank_a[m])}", ha="left", va="center", fontsize=7)
    ax.set_xticks([0, 1], [before_label, after_label])
    ax.set_xlim(-0.9, 1.2)
    ax.invert_yaxis()
    ax.set_ylabel("rank (1 = most accurate)")
    ax.set_title(f"Ranks of the {len(chosen)} best models (red: moved)")
    fig.text(0.01, -0.02, f"Data: {source}", ha="left", va="top", fontsize=8, color="0.35")
    return fig


def plot_error_grid(
    images: torch.Tensor,
    given: Sequence[str],
    suggested: Sequence[str],
    votes: Sequence[str],
    source: str,
    ncols: int = 8,
):
    """Images ``(n, C, H, W)`` (uint8 or [0, 1] floats) titled 'given -> suggested' and votes."""
    import matplotlib.pyplot as plt

    n = len(images)
    nrows = max(1, int(np.ceil(n / ncols)))
    fig, axes = plt.subplots(nrows, ncols, figsize=(1.45 * ncols, 1.75 * nrows), squeeze=False, layout="constrained")
    imgs = images.float() / 255 if images.dtype == torch.uint8 else images.float()
    for ax in axes.flat:
        ax.axis("off")
    for i, ax in enumerate(axes.flat[:n]):
        img = imgs[i].permute(1, 2, 0).clamp(0, 1).numpy()
        ax.imshow(img[..., 0] if img.shape[-1] == 1 else img, cmap="gray" if img.shape[-1] == 1 else None)
        ax.set_title(f"{given[i]} -> {suggested[i]}\n{votes[i]}", fontsize=7)
    fig.text(
        0.01,
        0.0,
        f"Data: {source}. Title: given -> suggested label; reviewer votes (given/suggested/neither/both)",
        ha="left",
        va="top",
        fontsize=8,
        color="0.35",
    )
    return fig


FLIP_TREND_WORDS = {  # the words for ranking_flip's trend, by its verdict's direction
    "lower": "the more accurate a model on the original labels, the lower its accuracy on the corrected errors",
    "higher": "the more accurate a model on the original labels, the higher its accuracy on the corrected errors",
    "cannot tell": "the data cannot tell whether accuracy on the corrected errors rises or falls with top-1",
}


def ranking_flip(
    top1: dict[str, np.ndarray],
    labels: np.ndarray,
    reviews: pd.DataFrame,
    cleaned: pd.DataFrame,
    a: str = "resnet18",
    b: str = "resnet50",
    alpha: float = 0.05,
) -> dict:
    """What the released data say about Northcutt et al.'s ranking flip (ResNet-18 over ResNet-50
    as corrected errors become more prevalent), in our construction of the cleaned test set
    (:func:`cleaned_labels`; ``cleaned``: :func:`accuracy_under_cleaning`'s table).

    * ``a_vs_b``: a against b on the corrected errors, scored with the corrected labels: McNemar's
      exact test with Newcombe's paired interval (:func:`reliable_ml.stats.compare`, the two
      models answer the same images), a :class:`~reliable_ml.stats.Verdict` in fractions;
    * ``crossover_pct``: the share of corrected errors at which a's accuracy reaches b's when
      clean images (the ``removed`` column) and corrected errors are mixed
      (:func:`prevalence_crossover`); ``natural_pct``: their share in the corrected test set;
    * ``trend``: across all models, Spearman's rho between original top-1 and accuracy on the
      corrected errors (:func:`reliable_ml.labels.human_labels.rank_trend`): better models
      scoring worse on the corrected errors is the part of the mechanism that needs no choice of
      protocol. Models a or b missing: only the trend."""
    from reliable_ml.labels.human_labels import rank_trend
    from reliable_ml.stats import compare

    keep_removed, corrected, keep_corrected = cleaned_labels(labels, reviews)
    fixed = ~keep_removed & keep_corrected
    out = {
        "corrected_errors": int(fixed.sum()),
        "natural_pct": 100 * float(fixed.sum() / keep_corrected.sum()),
        "trend": rank_trend(cleaned["original"].to_numpy(), cleaned["errors_corrected"].to_numpy(), alpha),
    }
    if a in top1 and b in top1 and fixed.any():
        v = compare(top1[a][fixed] == corrected[fixed], top1[b][fixed] == corrected[fixed], paired=True, alpha=alpha)
        out |= {
            "models": [a, b],
            "a_vs_b": v,
            "clean": [float(cleaned.loc[a, "removed"]), float(cleaned.loc[b, "removed"])],
            "errors_corrected": [float(cleaned.loc[a, "errors_corrected"]), float(cleaned.loc[b, "errors_corrected"])],
            "crossover_pct": prevalence_crossover(
                cleaned.loc[a, "removed"],
                cleaned.loc[a, "errors_corrected"],
                cleaned.loc[b, "removed"],
                cleaned.loc[b, "errors_corrected"],
            ),  # fmt: skip
        }
    return out
