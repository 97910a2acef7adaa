"""Failures of the data pipeline: poisoned training data and planted spurious cues.

- ``poisoning``: BadNets and clean-label backdoors, spectral signatures, planted cues.
- ``backdoor_lab``: the experiments of chapter 07 on MNIST, built from ``poisoning``,
  ``robust.train`` and ``robust.saliency``.
- ``clean_label_radius``: chapter 07's clean-label hardening swept beyond the robust model's
  training radius, the radius rule and the wide-radius arm (paired by seed with ``backdoor_lab``'s arms).
- ``backdoor_cifar``: chapter 07's CIFAR-10 experiment (BadNets, clean-label, spectral
  signatures, planted cue) for a row of ``settings.backdoor_cifar``; its command line is
  ``experiments.backdoor_cifar``.
"""
