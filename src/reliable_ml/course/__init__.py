"""Course machinery, kept apart from the science helpers.

``runner`` executes the chapters with papermill, ``build_cache`` decides what to re-execute,
``book`` stages and builds the Jupyter Book, ``claims`` is the registry of published claims
that ``scorecard`` judges against the ``results`` files, ``run`` is what a chapter carries
from its first cell to its results file (:func:`start`), ``sphinx_fixes`` is a small Sphinx
extension, ``cli`` the command line. The compute profiles are :data:`reliable_ml.settings.PROFILES`.
"""

from reliable_ml.course.run import Run, start

__all__ = ["Run", "start"]
