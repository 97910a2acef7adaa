"""The GPU entry points: full reproductions that need no Jupyter.

``python -m reliable_ml.experiments.NAME --profile gpu`` runs one (``zoo``, ``robust_cifar``,
``rst_cifar``, ``backdoor_cifar``, ``nonrobust_cifar``, ``spatial_cifar``) and writes
``results/<profile>/<chapter>.json`` like the chapter would. Each reads its row from
:mod:`reliable_ml.settings`; ``entry`` holds their shared command line and ending.
"""
