"""``python -m reliable_ml run|book|scorecard ...``: the course command line."""

import sys

from reliable_ml.course.cli import main

if __name__ == "__main__":
    sys.exit(main())
