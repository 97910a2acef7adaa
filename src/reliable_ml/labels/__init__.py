"""Labels and test-set construction: annotators, selection frequency, humans against models.

- ``annotation``: simulated crowds, selection frequency and sampling strategies; chapter 02.
- ``rebuild``: the whole rebuilding pipeline of Recht et al. (candidates, crowd,
  near-duplicates, sampling); chapter 02.
- ``labeling``, ``grid_labeling``: the labeling widgets and their answer logs; chapters 02, 03.
- ``human_labels``: CIFAR-10H's real annotators; chapters 02 and 03.
- ``humans``: Shankar et al.'s labelers on ImageNetV2, re-analysed; chapter 03.
- ``label_quality``: multi-label images (ReaL), label errors, confident learning; chapter 09.
"""
