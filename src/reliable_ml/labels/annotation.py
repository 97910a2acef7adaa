"""Rebuilding a test set the way ImageNetV2 and CIFAR-10.1 were built (Recht et al. 2019).

The pipeline, one function per step:

1. **Clarity** (:func:`ensemble_probabilities`, :func:`clarity`). How clearly an image shows
   its candidate class c is ``clarity_i = p_ens(c_i | x_i)``, the softmax probability of c_i
   averaged over a small *clarity ensemble*. Provenance matters: that ensemble must be trained
   on a part of the data that neither the evaluated models (the zoo) nor the candidate pool
   nor the evaluated test sets contain, and it is never evaluated itself. (Clarity is thus
   a model's view of ambiguity, not a human's; models and humans find partly different
   images hard.)
2. **Candidate classes** (:func:`candidate_classes`). A keyword search returns some images
   of another class: a share ``wrong_share`` of candidates gets a wrong candidate class.
3. **Crowd annotation** (:func:`simulate_crowd`). The MTurk task: a grid of ~48 images for
   one class, "select every image that contains a <class>", made of candidates, positive
   controls (clear images of the class) and negative controls (clear images of other
   classes). A careful worker w selects an image with probability
   ``eps_w + (1 - 2 eps_w) * clarity``, with per-worker noise ``eps_w ~ U(0, noise_max)``;
   a careless worker clicks at a personal random rate ``u_w ~ U(0, 1)`` whatever the image.
   A worker whose control accuracy is below ``min_control_accuracy`` is discarded with all
   their answers. Grids are assigned in rounds until every image has ``min_annotations``
   valid annotations; selection frequency ``SF_i = selected_i / shown_i``.
4. **Sampling strategies** (:func:`matched_frequency`, :func:`threshold_sample`,
   :func:`top_images`): ImageNetV2's MatchedFrequency (per class, match the original test
   set's SF histogram over bins with edges 0.2, 0.4, 0.6, 0.8, sampling upward when a bin
   runs out), Threshold0.7 (random images with SF >= 0.7) and TopImages (highest SF).
5. **Near duplicates** (:func:`near_duplicates`): nearest neighbours of every candidate in
   the training and test sets by pixel distance and by a feature distance (PCA of
   brightness/contrast-standardized images); candidates
   under either threshold are removed, and the closest pairs go to a review grid.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch

from reliable_ml.util.progress import tqdm

SF_EDGES = (0.2, 0.4, 0.6, 0.8)  # ImageNetV2's histogram_bins (imagenetv2-b-33.json): 5 bins


# ----------------------------------------------------------------------------- clarity
@torch.no_grad()
def ensemble_probabilities(models, x_uint8: torch.Tensor, batch: int = 2048) -> np.ndarray:
    """Mean softmax over ``models``: ``probs[i, k] = (1/M) sum_m softmax(f_m(x_i / 255))_k``, shape (N, K).

    Images are uint8 ``(N, C, H, W)``, moved batch by batch to each model's device.
    """
    models = list(models)
    if not models:
        raise ValueError("the clarity ensemble is empty; give at least one model")
    if not isinstance(x_uint8, torch.Tensor) or x_uint8.dtype != torch.uint8 or x_uint8.ndim != 4:
        raise ValueError(f"images must be a uint8 tensor (N, C, H, W); got {getattr(x_uint8, 'dtype', type(x_uint8))}")
    total = None
    for model in models:
        model.eval()
        dev = next(model.parameters()).device
        probs = torch.cat(
            [
                torch.softmax(model(x_uint8[i : i + batch].to(dev).float() / 255), dim=1).cpu()
                for i in range(0, len(x_uint8), batch)
            ]
        )
        total = probs if total is None else total + probs
    return (total / len(models)).double().numpy()


def train_clarity_ensemble(
    names,
    x_uint8: torch.Tensor,
    y: torch.Tensor,
    n_classes: int,
    seed: int = 0,
    progress: bool = True,
    min_steps: int = 100,
    batch: int = 256,
) -> dict:
    """Train the clarity ensemble, members named as in :mod:`reliable_ml.models.zoo` (e.g. ``mlp-64-e5``),
    on ``x_uint8 (N, C, H, W)``, ``y (N,)``: a part of the data that the evaluated zoo, the pool
    and the test sets must not contain. Member i uses seed ``seed + i``. A member trains for at
    least ``min_steps`` optimizer steps (more epochs than its name says on a small clarity set),
    so that a small set (e.g. the 8x8 digits fallback) still gives clear controls.
    Returns ``{name: Trained}`` keyed by the names given."""
    from dataclasses import replace

    from reliable_ml.models import zoo

    specs = [zoo.parse_member(n) for n in names]
    if not specs:
        raise ValueError("the clarity ensemble is empty; give at least one member name")
    steps_per_epoch = -(-len(x_uint8) // batch)
    specs = [replace(s, epochs=max(s.epochs, -(-min_steps // steps_per_epoch))) for s in specs]
    return {
        name: zoo.train_member(spec, x_uint8, y, n_classes=n_classes, seed=seed + i, batch=batch, progress=False)
        for i, (name, spec) in enumerate(
            tqdm(list(zip(names, specs)), desc="clarity ensemble", disable=not progress, leave=False)
        )
    }


def clarity(probs: np.ndarray, candidate: np.ndarray) -> np.ndarray:
    """``clarity_i = probs[i, candidate_i]``: the ensemble's probability of the candidate class."""
    probs, candidate = np.asarray(probs, dtype=float), np.asarray(candidate)
    if probs.ndim != 2 or candidate.shape != (len(probs),):
        raise ValueError(f"probs must be (N, K) and candidate (N,); got {probs.shape} and {candidate.shape}")
    if candidate.size and (candidate.min() < 0 or candidate.max() >= probs.shape[1]):
        raise ValueError(
            f"candidate classes must lie in [0, {probs.shape[1] - 1}]; got {candidate.min()}..{candidate.max()}"
        )
    return probs[np.arange(len(probs)), candidate]


def candidate_classes(
    y_true: np.ndarray, n_classes: int, wrong_share: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Candidate class per image: the true class, except for a random ``wrong_share`` of images
    that get a uniformly drawn *other* class (keyword-search noise). Returns (candidate, is_wrong)."""
    if not 0 <= wrong_share < 1:
        raise ValueError(f"wrong_share must lie in [0, 1); got {wrong_share!r}")
    y_true = np.asarray(y_true, dtype=np.int64)
    is_wrong = rng.random(len(y_true)) < wrong_share
    shift = rng.integers(1, n_classes, len(y_true))
    candidate = np.where(is_wrong, (y_true + shift) % n_classes, y_true)
    return candidate, is_wrong


# ----------------------------------------------------------------------------- the crowd
@dataclass(frozen=True)
class CrowdConfig:
    """The MTurk task's settings (defaults after ImageNetV2: 48-image grids, >= 10 annotations)."""

    grid_size: int = 48
    n_positive_controls: int = 4
    n_negative_controls: int = 4
    min_annotations: int = 10
    n_workers: int = 60
    careless_share: float = 0.15
    noise_max: float = 0.15
    min_control_accuracy: float = 0.75
    control_min_clarity: float = 0.9
    max_rounds: int = 200

    def check(self) -> CrowdConfig:
        slots = self.grid_size - self.n_positive_controls - self.n_negative_controls
        if slots < 1 or min(self.n_positive_controls, self.n_negative_controls) < 1:
            raise ValueError(
                f"grid_size={self.grid_size} must exceed the controls "
                f"({self.n_positive_controls} positive + {self.n_negative_controls} negative, each >= 1)"
            )
        if self.min_annotations < 1 or self.n_workers < 1:
            raise ValueError(
                f"min_annotations and n_workers must be >= 1; got {self.min_annotations}, {self.n_workers}"
            )
        for name in ("careless_share", "min_control_accuracy", "control_min_clarity"):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"{name} must lie in [0, 1]; got {getattr(self, name)!r}")
        if not 0 <= self.noise_max <= 0.5:
            raise ValueError(f"noise_max must lie in [0, 0.5]; got {self.noise_max!r}")
        return self


@dataclass
class CrowdResult:
    """Valid selections and annotations per item, and what the control filter did to each worker."""

    selected: np.ndarray  # (N,) times selected by valid workers
    shown: np.ndarray  # (N,) valid annotations
    worker_noise: np.ndarray  # (W,) eps_w (NaN for careless workers)
    worker_careless: np.ndarray  # (W,) bool, the simulation's ground truth
    worker_valid: np.ndarray  # (W,) bool, passed the controls
    worker_control_accuracy: np.ndarray  # (W,) NaN if never assigned
    worker_grids: np.ndarray  # (W,) grids done
    n_grids: int
    n_rounds: int
    answers: pd.DataFrame = field(repr=False)  # one row per (grid, item): grid, worker, item, selected

    @property
    def sf(self) -> np.ndarray:
        return selection_frequency(self.selected, self.shown)


def selection_frequency(selected: np.ndarray, shown: np.ndarray) -> np.ndarray:
    """``SF_i = selected_i / shown_i`` (NaN where an item was never shown)."""
    selected, shown = np.asarray(selected, dtype=float), np.asarray(shown, dtype=float)
    if selected.shape != shown.shape or np.any(selected < 0) or np.any(selected > shown):
        raise ValueError("selected and shown must have the same shape with 0 <= selected <= shown")
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(shown > 0, selected / np.maximum(shown, 1), np.nan)


def control_pools(
    control_probs: np.ndarray, control_labels: np.ndarray, n_classes: int, min_clarity: float, min_controls: int = 10
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Per class c, the clear controls: positives have label c and p(c) >= min_clarity (or, if
    fewer than ``min_controls`` do, the ``min_controls`` label-c images of highest p(c));
    negatives have another label and p(c) <= 1 - min_clarity (or the lowest p(c) likewise)."""
    pos, neg = [], []
    for c in range(n_classes):
        p_c = control_probs[:, c]
        for out, members, clear in (
            (pos, control_labels == c, p_c >= min_clarity),
            (neg, control_labels != c, p_c <= 1 - min_clarity),
        ):
            chosen = np.flatnonzero(members & clear)
            if len(chosen) < min_controls:
                cand = np.flatnonzero(members)
                key = -p_c[cand] if out is pos else p_c[cand]
                chosen = np.sort(cand[np.argsort(key, kind="stable")[:min_controls]])
            out.append(chosen)
        if len(pos[-1]) == 0 or len(neg[-1]) == 0:
            raise ValueError(
                f"class {c}: no clear positive ({len(pos[-1])}) or negative ({len(neg[-1])}) "
                f"control images with control_min_clarity={min_clarity}"
            )
    return pos, neg


def simulate_crowd(
    item_clarity: np.ndarray,
    item_class: np.ndarray,
    control_probs: np.ndarray,
    control_labels: np.ndarray,
    config: CrowdConfig = CrowdConfig(),
    seed: int = 0,
    progress: bool = True,
) -> CrowdResult:
    """Run the simulated MTurk task on N items (clarity ``(N,)``, shown class ``(N,)``).

    Controls come from labelled images with ensemble probabilities ``control_probs (M, K)`` and
    labels ``control_labels (M,)``. Each round, every item with fewer than
    ``min_annotations`` valid annotations goes into one grid of its class together with
    random positive and negative controls; each grid goes to a random worker. A worker is
    valid while their control accuracy over all their grids is >= ``min_control_accuracy``.
    """
    cfg = config.check()
    item_clarity = np.asarray(item_clarity, dtype=float)
    item_class = np.asarray(item_class, dtype=np.int64)
    control_probs = np.asarray(control_probs, dtype=float)
    control_labels = np.asarray(control_labels, dtype=np.int64)
    n = len(item_clarity)
    if item_class.shape != (n,) or n == 0:
        raise ValueError(
            f"item_clarity and item_class must be non-empty (N,) arrays; got {item_clarity.shape}, {item_class.shape}"
        )
    if np.any(~np.isfinite(item_clarity)) or np.any((item_clarity < 0) | (item_clarity > 1)):
        raise ValueError("item_clarity must lie in [0, 1]")
    k = control_probs.shape[1] if control_probs.ndim == 2 else 0
    if control_probs.ndim != 2 or control_labels.shape != (len(control_probs),):
        raise ValueError(
            f"control_probs must be (M, K) and control_labels (M,); got {control_probs.shape}, {control_labels.shape}"
        )
    if item_class.min() < 0 or item_class.max() >= k:
        raise ValueError(f"item classes must lie in [0, {k - 1}]; got {item_class.min()}..{item_class.max()}")
    pos_pool, neg_pool = control_pools(control_probs, control_labels, k, cfg.control_min_clarity)

    rng = np.random.default_rng(seed)
    careless = rng.random(cfg.n_workers) < cfg.careless_share
    noise = np.where(careless, np.nan, rng.uniform(0, cfg.noise_max, cfg.n_workers))
    click_rate = rng.random(cfg.n_workers)  # careless workers' personal random rate
    ctrl_right = np.zeros(cfg.n_workers)
    ctrl_total = np.zeros(cfg.n_workers)
    grids_done = np.zeros(cfg.n_workers, dtype=np.int64)
    ans_grid, ans_worker, ans_item, ans_sel = [], [], [], []
    slots = cfg.grid_size - cfg.n_positive_controls - cfg.n_negative_controls

    def p_select(w: int, clar: np.ndarray) -> np.ndarray:
        if careless[w]:
            return np.full(len(clar), click_rate[w])
        return noise[w] + (1 - 2 * noise[w]) * clar

    valid = np.ones(cfg.n_workers, dtype=bool)
    counts = np.zeros(n, dtype=np.int64)
    n_grids = rounds = 0
    bar = tqdm(total=n * cfg.min_annotations, desc="crowd annotations", disable=not progress, leave=False)
    while True:
        need = np.flatnonzero(counts < cfg.min_annotations)
        if len(need) == 0:
            break
        if rounds >= cfg.max_rounds:
            bar.close()
            raise RuntimeError(
                f"after {rounds} rounds {len(need)} items still have fewer than "
                f"{cfg.min_annotations} valid annotations (too few valid workers?)"
            )
        rounds += 1
        for c in np.unique(item_class[need]):
            items_c = rng.permutation(need[item_class[need] == c])
            for start in range(0, len(items_c), slots):
                items = items_c[start : start + slots]
                w = int(rng.integers(cfg.n_workers))
                pos = rng.choice(
                    pos_pool[c], cfg.n_positive_controls, replace=len(pos_pool[c]) < cfg.n_positive_controls
                )
                neg = rng.choice(
                    neg_pool[c], cfg.n_negative_controls, replace=len(neg_pool[c]) < cfg.n_negative_controls
                )
                sel_items = rng.random(len(items)) < p_select(w, item_clarity[items])
                sel_pos = rng.random(len(pos)) < p_select(w, control_probs[pos, c])
                sel_neg = rng.random(len(neg)) < p_select(w, control_probs[neg, c])
                ctrl_right[w] += sel_pos.sum() + (~sel_neg).sum()
                ctrl_total[w] += len(pos) + len(neg)
                grids_done[w] += 1
                ans_grid.append(np.full(len(items), n_grids))
                ans_worker.append(np.full(len(items), w))
                ans_item.append(items)
                ans_sel.append(sel_items)
                n_grids += 1
        with np.errstate(invalid="ignore"):
            valid = (ctrl_total == 0) | (ctrl_right / np.maximum(ctrl_total, 1) >= cfg.min_control_accuracy)
        worker_all, item_all = np.concatenate(ans_worker), np.concatenate(ans_item)
        new_counts = np.bincount(item_all[valid[worker_all]], minlength=n)
        bar.update(
            int(np.minimum(new_counts, cfg.min_annotations).sum() - np.minimum(counts, cfg.min_annotations).sum())
        )
        counts = new_counts
    bar.close()
    answers = pd.DataFrame(
        {
            "grid": np.concatenate(ans_grid),
            "worker": np.concatenate(ans_worker),
            "item": np.concatenate(ans_item),
            "selected": np.concatenate(ans_sel),
        }
    )
    keep = valid[answers["worker"].to_numpy()]
    selected = np.bincount(
        answers["item"].to_numpy()[keep], weights=answers["selected"].to_numpy()[keep], minlength=n
    ).astype(np.int64)
    with np.errstate(invalid="ignore", divide="ignore"):
        ctrl_acc = np.where(ctrl_total > 0, ctrl_right / np.maximum(ctrl_total, 1), np.nan)
    return CrowdResult(selected, counts, noise, careless, valid, ctrl_acc, grids_done, n_grids, rounds, answers)


# ----------------------------------------------------------------------------- sampling strategies
def sf_bins(sf: np.ndarray, edges=SF_EDGES) -> np.ndarray:
    """Bin index of each SF: bin b holds edges[b-1] <= SF < edges[b] (bin 0: SF < edges[0]; last: SF >= edges[-1])."""
    edges = np.asarray(edges, dtype=float)
    if edges.ndim != 1 or len(edges) == 0 or np.any(np.diff(edges) <= 0) or edges[0] <= 0 or edges[-1] >= 1:
        raise ValueError(f"histogram edges must increase strictly inside (0, 1); got {edges.tolist()}")
    sf = np.asarray(sf, dtype=float)
    if np.any(~np.isfinite(sf)) or np.any((sf < 0) | (sf > 1)):
        raise ValueError("selection frequencies must be finite and lie in [0, 1]")
    return np.searchsorted(edges, sf, side="right")


def sf_histogram(sf: np.ndarray, classes: np.ndarray, n_classes: int, edges=SF_EDGES) -> np.ndarray:
    """Counts ``(n_classes, len(edges) + 1)``: images of each class in each SF bin."""
    b = sf_bins(sf, edges)
    classes = np.asarray(classes, dtype=np.int64)
    if classes.shape != b.shape:
        raise ValueError(f"sf and classes must have the same shape; got {b.shape} and {classes.shape}")
    hist = np.zeros((n_classes, len(edges) + 1), dtype=np.int64)
    np.add.at(hist, (classes, b), 1)
    return hist


def _per_class(per_class, n_classes: int) -> np.ndarray:
    sizes = np.full(n_classes, per_class, dtype=np.int64) if np.isscalar(per_class) else np.asarray(per_class)
    if sizes.shape != (n_classes,) or np.any(sizes < 0):
        raise ValueError(f"per_class must be a non-negative int or {n_classes} sizes; got {per_class!r}")
    return sizes.astype(np.int64)


def _check_pool(sf: np.ndarray, classes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    sf, classes = np.asarray(sf, dtype=float), np.asarray(classes, dtype=np.int64)
    if sf.shape != classes.shape or sf.ndim != 1:
        raise ValueError(f"sf and classes must be 1-d arrays of the same length; got {sf.shape}, {classes.shape}")
    sf_bins(sf)  # validates the values
    return sf, classes


def allocate(weights: np.ndarray, total: int) -> np.ndarray:
    """Integer counts summing to ``total``, proportional to ``weights`` (largest remainders)."""
    weights = np.asarray(weights, dtype=float)
    if weights.sum() <= 0:
        raise ValueError("cannot allocate over an empty histogram (all weights are 0)")
    exact = total * weights / weights.sum()
    counts = np.floor(exact).astype(np.int64)
    order = np.argsort(-(exact - counts), kind="stable")
    counts[order[: total - counts.sum()]] += 1
    return counts


def matched_frequency(
    sf: np.ndarray,
    classes: np.ndarray,
    target_hist: np.ndarray,
    per_class,
    rng: np.random.Generator,
    edges=SF_EDGES,
    allow_upward: bool = True,
) -> np.ndarray:
    """ImageNetV2's MatchedFrequency: per class c, draw ``per_class`` images whose SF histogram
    matches ``target_hist[c]`` (e.g. the original test set's, from :func:`sf_histogram`).

    The target counts are ``allocate(target_hist[c], per_class)``. Bins are filled from the
    lowest; a bin that runs out passes its shortfall to the next higher bin when
    ``allow_upward`` (as in the ImageNetV2 config). Raises ``ValueError`` naming the class
    and the shortfall when the pool cannot supply the request. Returns sorted indices.
    """
    sf, classes = _check_pool(sf, classes)
    target_hist = np.asarray(target_hist)
    n_classes = target_hist.shape[0]
    if target_hist.ndim != 2 or target_hist.shape[1] != len(edges) + 1:
        raise ValueError(f"target_hist must be (n_classes, {len(edges) + 1}); got {target_hist.shape}")
    sizes = _per_class(per_class, n_classes)
    bins = sf_bins(sf, edges)
    chosen = []
    for c in range(n_classes):
        if sizes[c] == 0:
            continue
        want = allocate(target_hist[c], int(sizes[c]))
        carry = 0
        for b in range(len(want)):
            available = rng.permutation(np.flatnonzero((classes == c) & (bins == b)))
            need = want[b] + carry
            take = min(need, len(available))
            chosen.append(available[:take])
            carry = need - take
            if carry and not allow_upward:
                raise ValueError(f"class {c}: SF bin {b} is short by {carry} images (allow_upward=False)")
        if carry:
            raise ValueError(
                f"class {c}: the pool is short by {carry} images for MatchedFrequency "
                f"(asked {sizes[c]}, have {int((classes == c).sum())})"
            )
    return np.sort(np.concatenate(chosen)) if chosen else np.zeros(0, dtype=np.int64)


def threshold_sample(
    sf: np.ndarray, classes: np.ndarray, per_class, n_classes: int, rng: np.random.Generator, threshold: float = 0.7
) -> np.ndarray:
    """ImageNetV2's Threshold0.7: per class, ``per_class`` random images with SF >= ``threshold``."""
    sf, classes = _check_pool(sf, classes)
    if not 0 <= threshold <= 1:
        raise ValueError(f"threshold must lie in [0, 1]; got {threshold!r}")
    sizes = _per_class(per_class, n_classes)
    chosen = []
    for c in range(n_classes):
        eligible = np.flatnonzero((classes == c) & (sf >= threshold))
        if len(eligible) < sizes[c]:
            raise ValueError(
                f"class {c}: only {len(eligible)} images have SF >= {threshold}, short by {sizes[c] - len(eligible)}"
            )
        chosen.append(rng.choice(eligible, int(sizes[c]), replace=False))
    return np.sort(np.concatenate(chosen))


def top_images(sf: np.ndarray, classes: np.ndarray, per_class, n_classes: int, rng: np.random.Generator) -> np.ndarray:
    """ImageNetV2's TopImages: per class, the ``per_class`` images of highest SF (ties in random order)."""
    sf, classes = _check_pool(sf, classes)
    sizes = _per_class(per_class, n_classes)
    chosen = []
    for c in range(n_classes):
        members = rng.permutation(np.flatnonzero(classes == c))
        if len(members) < sizes[c]:
            raise ValueError(f"class {c}: only {len(members)} images, short by {sizes[c] - len(members)}")
        chosen.append(members[np.argsort(-sf[members], kind="stable")[: sizes[c]]])
    return np.sort(np.concatenate(chosen))


# ----------------------------------------------------------------------------- near duplicates
def pixel_vectors(x_uint8: torch.Tensor) -> torch.Tensor:
    """Flattened float images in [0, 1], shape (N, C*H*W)."""
    if not isinstance(x_uint8, torch.Tensor) or x_uint8.dtype != torch.uint8 or x_uint8.ndim != 4:
        raise ValueError(f"images must be a uint8 tensor (N, C, H, W); got {getattr(x_uint8, 'dtype', type(x_uint8))}")
    return x_uint8.reshape(len(x_uint8), -1).float() / 255


def nearest(query: torch.Tensor, reference: torch.Tensor, chunk: int = 1024) -> tuple[np.ndarray, np.ndarray]:
    """For each row of ``query (Nq, D)``, the Euclidean distance to and index of its nearest row
    of ``reference (Nr, D)``, computed with ``torch.cdist`` in chunks of ``chunk`` queries."""
    if query.ndim != 2 or reference.ndim != 2 or query.shape[1] != reference.shape[1]:
        raise ValueError(
            f"query and reference must be (N, D) with the same D; got {tuple(query.shape)}, {tuple(reference.shape)}"
        )
    if len(reference) == 0:
        raise ValueError("the reference set is empty")
    dists, idxs = [], []
    for i in range(0, len(query), chunk):
        d = torch.cdist(query[i : i + chunk], reference)  # (chunk, Nr)
        best = d.min(dim=1)
        dists.append(best.values.cpu())
        idxs.append(best.indices.cpu())
    if not dists:
        return np.zeros(0), np.zeros(0, dtype=np.int64)
    return torch.cat(dists).double().numpy(), torch.cat(idxs).numpy()


def pca_basis(x: torch.Tensor, dim: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean ``(D,)`` and top-``dim`` principal directions ``(D, dim)`` of the rows of ``x (N, D)``."""
    if not 1 <= dim <= min(x.shape):
        raise ValueError(f"PCA dim must lie in [1, {min(x.shape)}]; got {dim}")
    torch.manual_seed(seed)
    mean = x.mean(0)
    _, _, v = torch.pca_lowrank(x - mean, q=dim, center=False, niter=4)
    return mean, v[:, :dim]


@dataclass
class NearDuplicates:
    """Nearest neighbours of each pool image in each reference set, and the removal decision."""

    table: pd.DataFrame  # one row per pool image: pixel/feature distance and index of the nearest in each ref
    remove: np.ndarray  # (N,) bool
    pixel_threshold: float
    feature_threshold: float

    def closest_pairs(self, k: int, by: str = "pixel_rms") -> pd.DataFrame:
        """The ``k`` (pool image, reference image) pairs with the smallest distance ``by``
        (``pixel_rms`` or ``feature``), over all references; one row per pair, each pool image once."""
        if by not in ("pixel_rms", "feature"):
            raise ValueError(f"unknown distance {by!r}; allowed: 'pixel_rms', 'feature'")
        index_col = "pixel_index" if by == "pixel_rms" else "feature_index"
        rows = []
        for ref in self.refs:
            rows.append(
                pd.DataFrame(
                    {
                        "pool": np.arange(len(self.table)),
                        "reference": ref,
                        "ref_index": self.table[f"{ref}_{index_col}"],
                        "distance": self.table[f"{ref}_{by}"],
                    }
                )
            )
        table = pd.concat(rows).sort_values("distance", kind="stable").drop_duplicates("pool")
        return table.head(k).reset_index(drop=True).rename(columns={"distance": by})

    @property
    def refs(self) -> list[str]:
        return [c[: -len("_pixel_rms")] for c in self.table.columns if c.endswith("_pixel_rms")]


def standardize(v: torch.Tensor) -> torch.Tensor:
    """Each row minus its mean, divided by its norm: brightness and contrast changes cancel."""
    v = v - v.mean(dim=1, keepdim=True)
    return v / v.norm(dim=1, keepdim=True).clamp_min(1e-6)


def near_duplicates(
    pool: torch.Tensor,
    references: dict[str, torch.Tensor],
    pixel_threshold: float,
    feature_threshold: float,
    feature_dim: int = 64,
    chunk: int = 1024,
    seed: int = 0,
) -> NearDuplicates:
    """Flag pool images that nearly duplicate an image of any reference set (e.g. train, test).

    Pixel distance: RMS pixel difference ``||a - b||_2 / sqrt(D)`` with pixels in [0, 1].
    Feature distance: each image is standardized (minus its mean pixel, divided by its norm,
    so re-encoding, brightness and contrast changes cancel) and projected on the top
    ``feature_dim`` principal directions of the standardized reference images; the distance is
    Euclidean in that space (in [0, 2]). An image is removed when either distance to any
    reference is below its threshold.
    """
    if not references:
        raise ValueError("give at least one reference set, e.g. {'train': x_train, 'test': x_test}")
    if pixel_threshold < 0 or feature_threshold < 0:
        raise ValueError(f"thresholds must be >= 0; got pixel {pixel_threshold!r}, feature {feature_threshold!r}")
    q = pixel_vectors(pool)
    refs = {name: pixel_vectors(x) for name, x in references.items()}
    for name, r in refs.items():
        if r.shape[1] != q.shape[1]:
            raise ValueError(f"reference {name!r} has images of {r.shape[1]} values, the pool {q.shape[1]}")
    mean, basis = pca_basis(standardize(torch.cat(list(refs.values()))), feature_dim, seed)
    fq = (standardize(q) - mean) @ basis
    columns, remove = {}, np.zeros(len(q), dtype=bool)
    scale_px = np.sqrt(q.shape[1])
    for name, r in refs.items():
        d_px, i_px = nearest(q, r, chunk)
        d_ft, i_ft = nearest(fq, (standardize(r) - mean) @ basis, chunk)
        columns[f"{name}_pixel_rms"] = d_px / scale_px
        columns[f"{name}_pixel_index"] = i_px
        columns[f"{name}_feature"] = d_ft
        columns[f"{name}_feature_index"] = i_ft
        remove |= (d_px / scale_px < pixel_threshold) | (d_ft < feature_threshold)
    return NearDuplicates(pd.DataFrame(columns), remove, pixel_threshold, feature_threshold)
