"""Failures of the data pipeline: poisoned training data and planted spurious cues.

- ``poisoning``: BadNets and clean-label backdoors, spectral signatures, planted cues.
- ``backdoor_lab``: the experiments of chapter 07 on MNIST, built from ``poisoning``,
  ``robust.train`` and ``robust.saliency``.
- ``backdoor_cifar``: chapter 07's CIFAR-10 experiment (BadNets, clean-label, spectral
  signatures, planted cue) for a row of ``settings.backdoor_cifar``; its command line is
  ``experiments.backdoor_cifar``.
"""
