"""Benchmark: train several small models of one architecture as one batched model (issue 33's lever).

The course trains many small models of one architecture one after another: the seeds of
catastrophic overfitting (04), the sample-size sweep (05), the seeds of 06, 07 and 10. Batched,
``torch.func.stack_module_state`` + ``vmap`` runs ``K`` models' steps as one. This measures
whether that pays on the book's setting, one CPU thread: seconds per training step (FGSM with a
random start, then SGD, as the catastrophic-overfitting runs do) of ``K`` copies of
:func:`reliable_ml.models.nets.small_cnn` (Wong et al.'s MNIST network) on MNIST-sized batches,
one after another vs batched, and checks that both give the same weights (float tolerance:
vmap reorders the arithmetic). Random tensors stand in for the images (the cost does not depend
on their values). Writes ``results/bench/batched_models.json``.

    python benchmarks/batched_models.py [--models 3 8] [--steps 20] [--batch 100]
"""

from __future__ import annotations

import argparse
import copy
import time

import torch
import torch.nn.functional as F
from torch.func import functional_call, grad, stack_module_state, vmap

from reliable_ml.course.results import write_bench
from reliable_ml.models import nets

EPS, ALPHA, LR = 0.3, 0.375, 0.05


def fgsm_rs_step(model, x, y, delta0):
    """One FGSM-RS training step's loss for ``model`` (a module or a functional call)."""
    delta = delta0.clone().requires_grad_(True)
    (g,) = torch.autograd.grad(F.cross_entropy(model(x + delta), y), delta)
    x_adv = (x + (delta0 + ALPHA * g.sign()).clamp(-EPS, EPS)).clamp(0, 1).detach()
    return F.cross_entropy(model(x_adv), y)


def loop_steps(models, batches):
    opts = [torch.optim.SGD(m.parameters(), lr=LR) for m in models]
    for x, y, deltas in batches:
        for m, opt, d in zip(models, opts, deltas):
            opt.zero_grad(set_to_none=True)
            fgsm_rs_step(m, x, y, d).backward()
            opt.step()
    return models


def batched_steps(models, batches):
    """The same steps for the ``K`` models at once: ``vmap`` over their stacked parameters. The
    parameters are plain tensors (detached from autograd, updated by hand as SGD does), and the
    attack's gradient is taken with the parameters detached, so neither path pays for work the
    other does not do (the loop's ``autograd.grad`` builds no second-order graph either)."""
    params, buffers = stack_module_state(models)
    params = {k: v.detach() for k, v in params.items()}
    base = copy.deepcopy(models[0]).to("meta")

    def loss(p, b, x, y, d):
        p_fixed = {k: v.detach() for k, v in p.items()}  # the attack does not differentiate the weights

        def f(inp, weights):
            return functional_call(base, (weights, b), (inp,))

        g = grad(lambda dd: F.cross_entropy(f(x + dd, p_fixed), y))(d)  # the attack's gradient
        x_adv = (x + (d + ALPHA * g.sign()).clamp(-EPS, EPS)).clamp(0, 1).detach()
        return F.cross_entropy(f(x_adv, p), y)

    step = vmap(grad(loss), in_dims=(0, 0, None, None, 0))
    for x, y, deltas in batches:
        grads = step(params, buffers, x, y, torch.stack(deltas))
        params = {k: (v - LR * grads[k]).detach() for k, v in params.items()}
    return params


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, nargs="+", default=[3, 8])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--batch", type=int, default=100)
    args = parser.parse_args()
    if min(args.models) < 1 or args.steps < 1 or args.batch < 1:
        raise SystemExit(f"--models, --steps and --batch must be >= 1; got {args.models}, {args.steps}, {args.batch}")
    torch.set_num_threads(1)
    rows = []
    for k in args.models:
        g = torch.Generator().manual_seed(0)
        batches = [
            (
                torch.rand(args.batch, 1, 28, 28, generator=g),
                torch.randint(0, 10, (args.batch,), generator=g),
                [EPS * (2 * torch.rand(args.batch, 1, 28, 28, generator=g) - 1) for _ in range(k)],
            )
            for _ in range(args.steps + 1)
        ]
        torch.manual_seed(0)
        models = [nets.small_cnn(normalize=False) for _ in range(k)]
        looped = [copy.deepcopy(m) for m in models]
        loop_steps(looped, batches[:1])  # warm-up, not timed
        looped = [copy.deepcopy(m) for m in models]
        t0 = time.perf_counter()
        loop_steps(looped, batches[1:])
        t_loop = (time.perf_counter() - t0) / args.steps
        batched_steps(models, batches[:1])
        t0 = time.perf_counter()
        params = batched_steps(models, batches[1:])
        t_vmap = (time.perf_counter() - t0) / args.steps
        diff = max(
            (params[name][i] - dict(m.named_parameters())[name]).abs().max().item()
            for i, m in enumerate(looped)
            for name in params
        )
        rows.append(
            {
                "models": k,
                "loop_ms_per_step": round(1e3 * t_loop, 1),
                "batched_ms_per_step": round(1e3 * t_vmap, 1),
                "speedup": round(t_loop / t_vmap, 2),
                "max_weight_difference": diff,
            }
        )
        print(rows[-1], flush=True)
    record = {
        "device": "cpu (1 thread)",
        "network": "small_cnn (Wong et al.'s MNIST network, no normalization), FGSM-RS steps, SGD",
        "batch": args.batch,
        "steps": args.steps,
        "rows": rows,
    }
    out = write_bench("batched_models", record)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
