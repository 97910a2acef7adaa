r"""The robustness-accuracy trade-off on the toy distribution of Tsipras et al. (2019).

Labels :math:`y \in \{-1, +1\}` uniformly; one *robust* feature that agrees with the label
with probability :math:`p`, and :math:`d` *weakly correlated* features:

.. math::  x_1 = \begin{cases} +y & \text{w.p. } p \\ -y & \text{w.p. } 1-p \end{cases}, \qquad
           x_2, \dots, x_{d+1} \overset{iid}{\sim} \mathcal N(\eta y, 1).

*Standard* classifiers. The Bayes-optimal one is linear, :math:`\mathrm{sign}(w^\top x)` with
:math:`w_1 = \log\frac{p}{1-p}` (call it :math:`L`) and :math:`w_j = 2\eta` for the weak
features (the log-likelihood ratio). With :math:`S = y\sum_{j\ge 2} x_j \sim \mathcal N(d\eta, d)`,
its accuracy is

.. math::  p\,\Phi\Big(\frac{L + 2d\eta^2}{2\eta\sqrt d}\Big) + (1-p)\,\Phi\Big(\frac{-L + 2d\eta^2}{2\eta\sqrt d}\Big),

and the averaging classifier :math:`\mathrm{sign}(\sum_{j\ge2} x_j)` of Tsipras et al. has
accuracy :math:`\Phi(\eta\sqrt d)` (above 99% once :math:`\eta \ge 3/\sqrt d`).

*Robust* classifier. Against an :math:`L_\infty` attacker with :math:`\epsilon \ge 2\eta` every
weak feature can be moved from :math:`\mathcal N(\eta y, 1)` to :math:`\mathcal N(-\eta y, 1)`:
it now points the wrong way, while :math:`x_1 = \pm 1` cannot change sign for :math:`\epsilon < 1`.
The classifier :math:`\mathrm{sign}(x_1)` keeps accuracy :math:`p` clean *and* under attack; a
linear classifier :math:`w` has robust accuracy
:math:`P(y\,w^\top x - \epsilon \|w\|_1 > 0)`, which for the Bayes classifier above is nearly 0.
Tsipras et al.'s Theorem 2.1: any classifier with standard accuracy :math:`1 - \delta` has
robust accuracy at most :math:`\frac{p}{1-p}\,\delta` at :math:`\epsilon \ge 2\eta`. So *for
this distribution* high robust accuracy forces clean accuracy down towards :math:`p`: the
trade-off is inherent for *some* distributions. It says nothing about whether MNIST is one.
"""

from __future__ import annotations

import math

import torch

_PHI = lambda z: 0.5 * (1 + math.erf(z / math.sqrt(2)))  # noqa: E731 - standard normal CDF


def _check(p: float, eta: float, d: int, eps: float = 0.0) -> None:
    if not 0.5 < p < 1:
        raise ValueError(f"p must lie in (0.5, 1); got {p}")
    if not eta > 0:
        raise ValueError(f"eta must be > 0; got {eta}")
    if not (isinstance(d, int) and d >= 1):
        raise ValueError(f"d must be an integer >= 1; got {d!r}")
    if not 0 <= eps < 1:
        raise ValueError(f"eps must lie in [0, 1) (x_1 = +-1 keeps its sign); got {eps}")


def _linear_acc(p: float, eta: float, d: int, w1: float, wj: float, eps: float) -> float:
    """P(y w.x - eps ||w||_1 > 0) for w = (w1, wj, ..., wj), in closed form (wj > 0)."""
    mean, sd, shift = wj * d * eta, wj * math.sqrt(d), eps * (abs(w1) + wj * d)
    return p * _PHI((w1 + mean - shift) / sd) + (1 - p) * _PHI((-w1 + mean - shift) / sd)


def closed_form(p: float, eta: float, d: int, eps: float | None = None) -> dict:
    """Accuracies (in [0, 1]) on the toy distribution; ``eps`` defaults to ``2 eta``.

    ``standard_clean`` / ``standard_robust``: the Bayes-optimal (linear) classifier, clean and
    under the L-infinity attack; ``average_clean`` / ``average_robust``: the averaging classifier;
    ``robust_clean`` = ``robust_robust`` = ``p``: the robust classifier ``sign(x_1)``;
    ``theorem_bound``: Tsipras et al.'s ceiling on the robust accuracy of *any* classifier with the
    standard classifier's clean accuracy, ``p / (1 - p) * (1 - standard_clean)``.
    """
    eps = 2 * eta if eps is None else eps
    _check(p, eta, d, eps)
    w1 = math.log(p / (1 - p))
    std_clean = _linear_acc(p, eta, d, w1, 2 * eta, 0.0)
    return {
        "p": p,
        "eta": eta,
        "d": d,
        "eps": eps,
        "standard_clean": std_clean,
        "standard_robust": _linear_acc(p, eta, d, w1, 2 * eta, eps),
        "average_clean": _PHI(eta * math.sqrt(d)),
        "average_robust": _linear_acc(p, eta, d, 0.0, 1.0, eps),
        "robust_clean": p,
        "robust_robust": p,
        "theorem_bound": min(1.0, p / (1 - p) * (1 - std_clean)),
    }


def sample(n: int, p: float, eta: float, d: int, generator: torch.Generator | None = None):
    """``n`` draws ``(x, y)``: ``x`` float64 of shape (n, d + 1), ``y`` in {-1, +1}."""
    _check(p, eta, d)
    y = torch.randint(0, 2, (n,), generator=generator).double() * 2 - 1
    agree = torch.rand(n, generator=generator, dtype=torch.float64) < p
    x1 = torch.where(agree, y, -y)
    weak = eta * y[:, None] + torch.randn(n, d, generator=generator, dtype=torch.float64)
    return torch.cat([x1[:, None], weak], 1), y


def simulate(n: int, p: float, eta: float, d: int, eps: float | None = None, seed: int = 0) -> dict:
    """Monte-Carlo estimates of the accuracies of :func:`closed_form` from ``n`` draws. The attack
    on a linear classifier ``w`` is its exact worst case, ``x - eps * y * sign(w)``."""
    eps = 2 * eta if eps is None else eps
    x, y = sample(n, p, eta, d, torch.Generator().manual_seed(seed))
    w_std = torch.cat(
        [torch.tensor([math.log(p / (1 - p))], dtype=torch.float64), torch.full((d,), 2 * eta, dtype=torch.float64)]
    )
    w_avg = torch.cat([torch.zeros(1, dtype=torch.float64), torch.ones(d, dtype=torch.float64)])
    acc = lambda w, xs: float(((xs @ w) * y > 0).double().mean())  # noqa: E731
    attack = lambda w: x - eps * y[:, None] * torch.sign(w)[None]  # noqa: E731 - the worst case for a linear w
    robust_feature = lambda xs: float((torch.sign(xs[:, 0]) == y).double().mean())  # noqa: E731
    return {
        "n": n,
        "standard_clean": acc(w_std, x),
        "standard_robust": acc(w_std, attack(w_std)),
        "average_clean": acc(w_avg, x),
        "average_robust": acc(w_avg, attack(w_avg)),
        "robust_clean": robust_feature(x),
        "robust_robust": robust_feature(x - eps * y[:, None] * torch.ones_like(x)),
    }
