"""benchmarks/batched_models.py compares like with like: batched steps give the looped weights."""

import copy
import importlib.util
from pathlib import Path

import torch

from reliable_ml.models import nets

BENCH = Path(__file__).parents[1] / "benchmarks" / "batched_models.py"
SPEC = importlib.util.spec_from_file_location("bench_batched", BENCH)
bench = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(bench)


def test_batched_training_matches_one_model_at_a_time():
    g = torch.Generator().manual_seed(0)
    batches = [
        (
            torch.rand(8, 1, 28, 28, generator=g),
            torch.randint(0, 10, (8,), generator=g),
            [bench.EPS * (2 * torch.rand(8, 1, 28, 28, generator=g) - 1) for _ in range(2)],
        )
        for _ in range(2)
    ]
    torch.manual_seed(0)
    models = [nets.small_cnn(normalize=False) for _ in range(2)]
    looped = bench.loop_steps([copy.deepcopy(m) for m in models], batches)
    params = bench.batched_steps(models, batches)
    for i, m in enumerate(looped):
        for name, p in m.named_parameters():
            torch.testing.assert_close(params[name][i], p, rtol=1e-5, atol=1e-6)
    assert not torch.equal(params["0.weight"][0], models[0][0].weight), "the weights moved"
    assert not any(p.requires_grad for p in params.values()), "no autograd graph chained across the timed steps"
