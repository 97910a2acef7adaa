"""Networks and the course's model zoos.

- ``nets``: the architectures (normalization as the first layer, [0, 1] inputs); chapters 04,
  10 and the GPU entry points.
- ``zoo``: the cached zoos of small MNIST and CIFAR-10 models; chapters 01, 02, 03 and 08.
"""
