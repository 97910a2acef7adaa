"""Checks of what a reader sees in an executed chapter (used by tests/test_browser.py).

A hidden-input cell (tags ``hide-input``/``remove-input``) shows only its output, so an output
there that is nothing but a number reads as a stray value under a figure: chapter 03 once printed
``7.472007751464844`` where the number was meant to be glued into the prose.
"""

from __future__ import annotations

import re

HIDDEN_INPUT = ("hide-input", "remove-input")
NUMBER = re.compile(
    r"^\s*[-+]?(?:np\.float\d*\(|np\.int\d*\(|tensor\()?\s*[-+]?"
    r"(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?\)?\s*$"
)


def is_bare_number(text: str) -> bool:
    """Whether ``text`` is a lone number (``7.47``, ``-3``, ``1e-05``, ``np.float64(0.5)``, ``tensor(2.)``)."""
    return bool(text.strip()) and bool(NUMBER.match(text.strip()))


def bare_number_outputs(nb) -> list[tuple[int, str]]:
    """``(cell index, text)`` of every output of a hidden-input code cell that is a lone number:
    a ``text/plain`` result or display without a richer representation, or a printed line."""
    found = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or not set(HIDDEN_INPUT) & set(cell.metadata.get("tags", [])):
            continue
        for out in cell.get("outputs", []):
            kind = out.get("output_type")
            if kind in ("execute_result", "display_data"):
                data = out.get("data", {})
                if set(data) <= {"text/plain"} and is_bare_number(str(data.get("text/plain", ""))):
                    found.append((i, str(data["text/plain"]).strip()))
            elif kind == "stream":
                found += [(i, line.strip()) for line in str(out.get("text", "")).splitlines() if is_bare_number(line)]
    return found
