"""Plumbing shared by the science and the data layer; no experiment lives here.

- ``env``: device choice and seeding.
- ``progress``: progress bars that stay quiet in headless builds.
- ``cachelock``, ``cachestats``: model caches built once across processes, and what they did.
- ``evalcache``: per-image outcomes of evaluations kept beside the models, keyed by the model's weights,
  the settings and the images (chapter 11).
- ``plots``: figure conventions (axes, captions naming the data source).
- ``notes``: visible notes in a notebook (fallback data, skipped sections).

``data`` may import from here, and from nothing else of the package.
"""
