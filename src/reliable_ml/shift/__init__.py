"""New test sets and distribution shift: what a drop in accuracy is made of.

- ``adaptive``: adaptive overfitting of a reused holdout (Blum & Hardt's attack, the Ladder,
  best-of-k selection, Kaggle-style leaderboards); chapter 01.
- ``reanalysis``: CIFAR-10.1 and ImageNetV2 re-analysed from the released per-image
  predictions; chapter 01.
- ``similarity``: agreement between models and what it buys (Mania et al.); chapter 01.
- ``writers``: MNIST's writers as a natural distribution shift (QMNIST metadata); chapter 01.
- ``line``: the course's one line fit ("accuracy on the line"): probit (or logit) axes, the
  declared model set, intervals over models and images; chapters 01, 02, 03 and 08.
- ``harder``: "harder, not just different": does training on some new writers close the gap on
  other new writers, against a control of more original digits; chapter 01.
- ``effective_robustness``: accuracy on the line, probit fits and effective robustness;
  chapters 02, 03 and 08.
- ``published_results``: re-analysis of published leaderboards (RobustBench, SQuADShifts,
  OpenCLIP); chapters 05 and 08.
- ``clip_families``: OpenCLIP's zero-shot checkpoints grouped by pretraining data, with each
  family's effective robustness and its bootstrap interval over checkpoints; chapter 08.
"""
