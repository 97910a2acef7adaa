"""Max-pooling that computes the same values faster on the CPU when no gradient is needed.

PyTorch's CPU kernel for ``max_pool2d`` on a contiguous NCHW tensor without autograd is 2-10x
slower than its channels-last kernel on the shapes of the course's pooling network (measured on
torch 2.14, one thread: ``benchmarks/pooling.py``). A maximum is exact, so pooling a channels-last
copy and copying the result back to NCHW gives bitwise the same tensor; the next layer then sees
exactly the input it saw before. With autograd the standard kernel is kept: its backward is not
slower in NCHW. Forward-only work (evaluations, gradient-free attacks such as Square) is where
the time goes.
"""

from __future__ import annotations

import torch
from torch import nn


class MaxPool2d(nn.MaxPool2d):
    """:class:`torch.nn.MaxPool2d` (same arguments, same values, same ``repr``) whose forward pass
    on a 4-d CPU tensor, outside autograd, pools a channels-last copy and returns NCHW (an input
    already channels-last is pooled as it is and stays channels-last, as with torch)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.return_indices or x.device.type != "cpu" or x.dim() != 4:
            return super().forward(x)
        if torch.is_grad_enabled() and x.requires_grad:
            return super().forward(x)
        if x.is_contiguous(memory_format=torch.channels_last):  # already the fast layout: kept, as torch does
            return super().forward(x)
        return super().forward(x.contiguous(memory_format=torch.channels_last)).contiguous()
