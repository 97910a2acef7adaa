"""Adversarial robustness: attacks, robust training and what robust models learn.

- ``attacks``: FGSM, PGD and the evaluation suite (with torchattacks' AutoAttack parts);
  chapters 04 and 10.
- ``train``: standard, PGD and fast (FGSM, FGSM-RS) adversarial training; chapters 04, 06, 10.
- ``catastrophic``: fast adversarial training watched every few steps (PGD at the training
  radius beside FGSM training accuracy), cached; ``collapse``: catastrophic overfitting defined by
  its signature, a pure rule on those curves; chapter 04.
- ``shared_model``: the one PGD-trained MNIST model that chapters 04, 07, 10 and 11 share,
  cached and evaluated with the whole suite.
- ``robust_variant``: the shared model's PGD-training recipe on another network (chapter 11's
  pooling CNN), cached by its own fingerprint, with a cached PGD evaluation; chapter 11.
- ``plots``: robustness figures (ε sweeps, training curves); chapters 04–06.
- ``tradeoff``: Tsipras et al.'s accuracy-robustness trade-off in closed form; chapter 04.
- ``gaussian_model``, ``image_task``, ``self_training``: why robust generalization needs more
  data, and robust self-training; chapters 05 and 06.
- ``nonrobust``: non-robust features and what robust models see; chapters 10 and 11.
- ``targeted_gate``: does a large-radius targeted attack reach its target on most images (the gate
  of every such claim), and the gradient-free step toward the nearest target-class image; chapter 10.
- ``l2_model``: the course's L2-robust MNIST model (PGD-L2 adversarial training), cached and named
  by its worst case; chapter 10.
- ``saliency``: gradient saliency maps; chapters 07 and 10 (through ``pipeline.backdoor_lab``
  and ``nonrobust``).
- ``spatial``, ``eot``: rotations and translations, expectation over transformation; chapter 11.
"""
