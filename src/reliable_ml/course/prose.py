"""Check that every sentence a reader reads agrees with its own numbers.

The check reads what readers read: the readable copies ``lab/NN_name.ipynb`` (plain Markdown,
glued numbers already filled in) and the executed book pages ``_build/executed/<profile>/*.ipynb``
(MyST Markdown rendered with the values the run glued, as in :mod:`.readable`). It splits each
Markdown cell into sentences (code, math, links, citations and tables set aside) and applies
:data:`RULES`:

* ``comparative-sign``: a comparative word whose number has the opposite sign: "higher by
  -32.5", "-3 points lower", "loses -0.5 points";
* ``quantifier-share``: a quantifier over items against the shares in the parenthesis after it:
  "most images (standard 100%, robust 5%)" (a share under 50%), "nearly all" under 90%,
  "all"/"every" under 100%, "none"/"no" above 0, "few" above 50%;
* ``verdict-interval``: a verdict next to an interval that contains its alternative: "below 1 ...
  [0.91, 1.02]", "beats ... difference +0.4 [-0.3, 1.1]" (for higher/lower/beats/better/worse
  the alternative is 0, and the interval must straddle it, or touch it in a sentence about a
  difference);
* ``placeholder``: NaN, "[value from the cpu run]" or "[not measured in the cpu run]" left in a
  chapter whose results file says it ran on the real data (``data_source``).

It prefers precision: a negated or hedged verdict ("not below 1", "cannot tell") is not one, and
a number is tied to a word only where the grammar says so ("higher by N", "N points lower").
``python -m reliable_ml check-prose`` prints the findings as ``file:cell: rule: sentence`` and
exits 1 when there is one; ``make book`` runs it after the build (:func:`book_findings`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from reliable_ml.course.results import PROJECT_ROOT, results_root

RULES = ("comparative-sign", "quantifier-share", "verdict-interval", "placeholder")
LAB_DIR = PROJECT_ROOT / "lab"


@dataclass(frozen=True)
class Finding:
    """A sentence that contradicts its numbers: where (file, Markdown cell index from 0), which rule."""

    file: str
    cell: int
    rule: str
    sentence: str

    def __str__(self) -> str:
        return f"{self.file}:{self.cell}: {self.rule}: {self.sentence}"


# ----------------------------------------------------------------------------- Markdown to sentences

_FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,}|:{3,})")
_NUM = r"\d+(?:,\d{3})*(?:\.\d+)?(?:[eE][-+]?\d+)?"
NUMBER = re.compile(rf"(?<![\w.]){_NUM}(?![\w])")
_ABBREVIATIONS = {
    "e.g",
    "i.e",
    "al",
    "vs",
    "cf",
    "fig",
    "figs",
    "eq",
    "eqs",
    "approx",
    "no",
    "resp",
    "sec",
    "ch",
    "etc",
    "ca",
    "p",
    "pp",
    "ref",
    "refs",
    "dr",
    "prof",
    "st",
    "jr",
}


# Digits, signs and points inside math and code are swapped for private-use characters while the
# rules run (``$L_2$``, ``$x = -1$`` and `` `top-5` `` hold no numbers of the sentence, and a point
# there ends no sentence), and swapped back in what a finding quotes.
_HIDDEN = "0123456789-−+.,%[]()_*"
_HIDE = str.maketrans({c: chr(0xE000 + i) for i, c in enumerate(_HIDDEN)})
_SHOW = str.maketrans({chr(0xE000 + i): c for i, c in enumerate(_HIDDEN)})


def _hide(m: re.Match) -> str:
    return m.group(0).translate(_HIDE)


def shown(text: str) -> str:
    """``text`` with what :func:`_inline_plain` hid in math and code restored."""
    return text.translate(_SHOW)


def _inline_plain(text: str) -> str:
    """Markdown inline markup to plain text: math and code spans stay, their digits, signs and
    points hidden from the rules; links become their text, roles their body (citations
    nothing); HTML tags and emphasis marks are dropped. Applying it twice changes nothing."""
    text = re.sub(r"\$\$.*?\$\$", _hide, text, flags=re.S)
    text = re.sub(r"(?<![\\$])\$(?!\s)[^$\n]+?(?<![\s\\])\$", _hide, text)
    text = re.sub(r"\{cite[\w:]*\}`[^`]*`", "", text)
    text = re.sub(r"\{[\w:.-]+\}`([^`]*)`", r"\1", text)
    text = re.sub(r"(`+).+?\1", _hide, text)
    text = re.sub(r"!\[[^\]]*\]\([^)]*\)", "", text)
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"<!--.*?-->", "", text, flags=re.S)
    text = re.sub(r"</?[A-Za-z][^<>]*>", "", text)
    text = re.sub(r"(\*{1,3}|(?<!\w)_{1,3}|_{1,3}(?!\w))", "", text)
    return text


def _blocks(markdown: str) -> list[str]:
    """The prose blocks of a Markdown cell (paragraphs, list items, headings, quotes), each on
    one line; code blocks, display math and tables are left out."""
    out: list[str] = []
    current: list[str] = []

    def flush() -> None:
        if current:
            out.append(" ".join(current))
            current.clear()

    lines = markdown.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        fence = _FENCE.match(line)
        if fence:  # a code block or a directive fence: skip to its end
            flush()
            marker = fence.group(1)
            close = re.compile(rf"^[ \t]*{re.escape(marker[0])}{{{len(marker)},}}[ \t]*$")
            i = next((j for j in range(i + 1, len(lines)) if close.match(lines[j])), len(lines)) + 1
            continue
        stripped = re.sub(r"^(\s*>)+\s?", "", line).strip()  # quote markers
        if stripped.startswith("$$"):  # display math: skip to its end
            flush()
            if stripped.count("$$") == 1:
                i = next((j for j in range(i + 1, len(lines)) if "$$" in lines[j]), len(lines))
            i += 1
            continue
        if not stripped or stripped.startswith("|") or re.match(r"^[-*_]{3,}$", stripped):
            flush()
        elif stripped.startswith("#"):
            flush()
            out.append(stripped.lstrip("#").strip())
        elif re.match(r"^([-*+]|\d+[.)])\s+", stripped):
            flush()
            current.append(re.sub(r"^([-*+]|\d+[.)])\s+", "", stripped))
        else:
            current.append(stripped)
        i += 1
    flush()
    return [b for b in (re.sub(r"\s+", " ", _inline_plain(b)).strip() for b in out) if b]


def split_sentences(block: str) -> list[str]:
    """Split a prose block at ``.``, ``!`` or ``?`` followed by a space and a capital, a digit or
    an opening bracket, except after an abbreviation (e.g., et al., Fig.) or a lone initial."""
    sentences, start = [], 0
    for m in re.finditer(r"[.!?][\"')\]]*\s+(?=[A-Z0-9(\[\"'])", block):
        before = block[start : m.start()]
        word = re.search(r"([\w.'’]+)$", before)
        last = word.group(1).lower().rstrip(".") if word else ""
        if last in _ABBREVIATIONS or (len(last) == 1 and last.isalpha()):
            continue
        sentences.append(block[start : m.end()].strip())
        start = m.end()
    sentences.append(block[start:].strip())
    return [s for s in sentences if s]


def sentences(markdown: str) -> list[str]:
    """Every sentence of a Markdown cell, in order, as plain text on one line."""
    return [shown(s) for b in _blocks(markdown) for s in split_sentences(b)]


# ----------------------------------------------------------------------------- numbers


@dataclass(frozen=True)
class Num:
    value: float
    start: int
    end: int
    percent: bool


def numbers(text: str) -> list[Num]:
    """The numbers in ``text`` with their sign: a ``-`` or ``−`` is a minus sign only where it
    does not follow a letter or digit ("CIFAR-10", "0.0–0.4" and "49.8-51.1" hold no negative)."""
    found = []
    for m in NUMBER.finditer(text):
        start, sign = m.start(), 1.0
        if start > 0 and text[start - 1] in "-−+":
            before = text[start - 2] if start > 1 else " "
            if not (before.isalnum() or before in ".%"):
                start -= 1
                sign = -1.0 if text[start] in "-−" else 1.0
        value = sign * float(m.group(0).replace(",", ""))
        if sign < 0 and value == 0:
            value = -0.0
        percent = bool(re.match(r"\s?%", text[m.end() : m.end() + 2]))
        found.append(Num(value, start, m.end(), percent))
    return found


def _negative(num: Num) -> bool:
    return num.value < 0 or (num.value == 0 and str(num.value).startswith("-"))


# ----------------------------------------------------------------------------- rule 1: comparative words

_UP = r"higher|more|above|better|exceeds?|exceeded|beats?|gains?|gained|larger|greater|rises?|rose|improves?|improved"
_DOWN = r"lower|less|below|worse|loses?|lost|smaller|fewer|drops?|dropped|falls?|fell"
_COMPARATIVE = rf"(?:{_UP}|{_DOWN})"
_HEDGE = r"(?:about|roughly|around|approximately|only|just|some|nearly|almost|up to|at least|at most|~|≈)\s*"
_SIGNED = rf"[-−+]?{_NUM}"
_NUMBER_LIST = rf"{_SIGNED}(?:\s*%)?(?:\s*(?:,|and|to|–|—)\s*{_SIGNED}(?:\s*%)?)*"
# "higher by N", "higher on average by N", "beats every standard model by N"
_BY = re.compile(
    rf"\b(?P<word>{_COMPARATIVE})\b(?P<gap>(?:\s+[A-Za-z'’-]+){{0,4}}?)\s+by\s+(?:{_HEDGE})?(?P<nums>{_NUMBER_LIST})",
    re.I,
)
# "gains N points", "loses N"
_VERB = re.compile(
    rf"\b(?P<word>gains?|gained|loses?|lost|drops?|dropped)\s+(?:{_HEDGE})?(?P<nums>{_NUMBER_LIST})", re.I
)
# "N points higher"
_AFTER = re.compile(
    rf"(?P<nums>{_SIGNED})\s*(?:%|points?|pp|percentage points?|accuracy points?)?\s+"
    rf"(?P<word>higher|lower|more|less|better|worse|above|below|larger|smaller|greater|fewer)\b",
    re.I,
)


def _numbers_in(sentence: str, start: int, end: int) -> list[Num]:
    """The numbers of ``sentence`` inside [start, end), signs read in the sentence's context
    ("0.1-0.3 points" holds no negative, though "-0.3 points" alone would)."""
    return [n for n in numbers(sentence) if start <= n.end <= end and n.start >= start - 1]


def comparative_sign(sentence: str) -> bool:
    """A comparative word tied to a negative number ("higher by -32.5 to -20.0", "-3 points
    lower", "loses -0.5"): the word says one direction, the sign the other (or a double negative)."""
    for pattern in (_BY, _VERB):
        for m in pattern.finditer(sentence):
            if any(_negative(n) for n in _numbers_in(sentence, *m.span("nums"))):
                return True
    for m in _AFTER.finditer(sentence):
        head = _numbers_in(sentence, *m.span("nums"))
        before = sentence[: m.start()].rstrip()
        if head and _negative(head[0]) and not before.endswith(("by", "of")):
            return True
    return False


# ----------------------------------------------------------------------------- rule 2: quantifiers

_ITEMS = (
    r"images?|digits?|examples?|inputs?|draws?|samples?|points?|items?|cases?|pairs?|photos?|"
    r"pictures?|instances?|trials?|attempts?|questions?|sentences?|reviews?|articles?|labels?|"
    r"predictions?|test points?|test images?|queries|query|pixels?|words?|objects?|clips?|frames?"
)
_QUANTIFIERS = {  # quantifier -> (share is wrong when it is ...)
    "most": ("below", 50.0),
    "the majority of": ("below", 50.0),
    "a majority of": ("below", 50.0),
    "nearly all": ("below", 90.0),
    "almost all": ("below", 90.0),
    "virtually all": ("below", 90.0),
    "all": ("below", 100.0),
    "every": ("below", 100.0),
    "each": ("below", 100.0),
    "none of": ("above", 0.0),
    "none": ("above", 0.0),  # _Q_BARE matches a bare "none (...)"
    "no": ("above", 0.0),
    "few": ("above", 50.0),
    "very few": ("above", 50.0),
}
_QUANT = "|".join(sorted((re.escape(q) for q in _QUANTIFIERS), key=len, reverse=True))
_Q_ITEMS = re.compile(
    rf"\b(?P<q>{_QUANT})\s+(?:of\s+)?(?:(?:the|its|their|these|those|our|this|that)\s+)?"
    rf"(?:[A-Za-z-]+\s+){{0,2}}?(?:{_ITEMS})\b(?:\s+at\s+all)?\s*\((?P<paren>[^()]*)\)",
    re.I,
)
_Q_BARE = re.compile(r"\b(?P<q>most|few|very few|none)\s*\((?P<paren>[^()]*)\)", re.I)
_SHARE = re.compile(
    rf"(?<![\w.])(?P<a>{_NUM})(?:\s*(?:–|—|-|to)\s*(?P<b>{_NUM}))?\s?%(?!\s*(?:interval|CI|confidence|level))"
)


def shares(paren: str) -> list[float]:
    """The percentages in a parenthesis ("standard 100%, robust 5%", "seeds: 49.8–51.1%"):
    interval levels ("95% interval") and interval bounds ("interval 89–97%", "[89, 97]") are
    not shares of the group."""
    out = []
    for pattern in (_BRACKET, _KEYWORD):
        paren = pattern.sub(" ", paren)
    for m in _SHARE.finditer(paren):
        out.append(float(m.group("a").replace(",", "")))
        if m.group("b"):
            out.append(float(m.group("b").replace(",", "")))
    return out


def quantifier_share(sentence: str) -> bool:
    """A quantifier over items whose parenthesis holds a share that contradicts it:
    "most images (standard 100%, robust 5%)", "nearly all draws (75%)", "no image at all (3%)"."""
    for pattern in (_Q_ITEMS, _Q_BARE):
        for m in pattern.finditer(sentence):
            if _negated(sentence, m.start(), words=6):  # "does not reach its target on every image"
                continue
            q = re.sub(r"\s+", " ", m.group("q").lower())
            side, bound = _QUANTIFIERS[q]
            values = shares(m.group("paren"))
            if side == "below" and any(v < bound for v in values):
                return True
            if side == "above" and any(v > bound for v in values):
                return True
    return False


# ----------------------------------------------------------------------------- rule 3: verdicts and intervals

_SEP = r"\s*(?:,|;|to|–|—|\s-\s)\s*"
_BRACKET = re.compile(rf"\[\s*(?P<lo>{_SIGNED})\s*%?{_SEP}(?P<hi>{_SIGNED})\s*%?\s*\]")
_PAREN = re.compile(rf"\(\s*(?P<lo>{_SIGNED})\s*%?\s*(?:to|–|—)\s*(?P<hi>{_SIGNED})\s*%?\s*\)")
_KEYWORD = re.compile(
    rf"\b(?:interval|CI)\b[^.;:\[\]()0-9]{{0,40}}?(?P<lo>{_SIGNED})\s*%?"
    rf"\s*(?:to|–|—|,|\s-\s)\s*(?P<hi>{_SIGNED})"
)
_REFERENCE = re.compile(
    rf"\b(?P<word>below|above|less than|smaller than|lower than|greater than|"
    rf"larger than|higher than|exceeds?)\s+(?P<ref>{_SIGNED})(?!\.?\d)(?!\s*%?\s*(?:of|interval))",
    re.I,
)
_DIFFERENCE = re.compile(
    r"\b(?P<word>higher|lower|beats?|beat|outperforms?|better|worse|more robust|less robust|"
    r"exceeds?)\b",
    re.I,
)
_NEGATION = re.compile(r"\b(not|no|never|cannot|can't|neither|nor|whether|if|without)\b|n't\b", re.I)
_UNDECIDED = re.compile(
    r"cannot tell|can't tell|does not show|do not show|no evidence|"
    r"\b(contains?|includes?|straddles?|covers?)\s+(0|1|zero|one|the reference)\b",
    re.I,
)


@dataclass(frozen=True)
class Interval:
    lo: float
    hi: float
    start: int
    end: int


def intervals(sentence: str) -> list[Interval]:
    """Intervals in a sentence: ``[lo, hi]`` brackets, a parenthesis that holds nothing but
    ``(lo to hi)`` or ``(lo–hi%)``, and ``lo to hi``/``lo–hi`` after the word "interval" or "CI"
    ("95% interval over images 67.8–80.7%")."""
    found = []
    for pattern in (_BRACKET, _PAREN, _KEYWORD):
        for m in pattern.finditer(sentence):
            lo, hi = (numbers(m.group(k)) for k in ("lo", "hi"))
            if lo and hi and lo[0].value <= hi[0].value:
                found.append(Interval(lo[0].value, hi[0].value, m.start(), m.end()))
    return sorted(set(found), key=lambda iv: iv.start)


def _nearest(ivs: list[Interval], start: int, end: int) -> Interval | None:
    def distance(iv: Interval) -> int:
        return max(iv.start - end, start - iv.end, 0)

    return min(ivs, key=distance) if ivs else None


def _own_interval(ivs: list[Interval], verdicts: list[int], start: int, end: int) -> Interval | None:
    """The interval a verdict word quotes: the first one after it when no other verdict word
    stands between them ("..., their PGD lift higher by 9.6 points [1.7, 17.5]" takes the interval
    after "higher", not the one that closed the clause before); else the nearest one."""
    after = [iv for iv in ivs if iv.start >= end]
    if after and not any(end <= v < after[0].start for v in verdicts):
        return after[0]
    return _nearest(ivs, start, end)


def _negated(sentence: str, start: int, words: int = 3) -> bool:
    """A negation among the ``words`` words before ``start`` (in the same clause)."""
    clause = re.split(r"[;:()\[\]]", sentence[:start])[-1]
    last = re.findall(r"[\w']+", clause)[-words:]
    return bool(_NEGATION.search(" ".join(last)))


def verdict_interval(sentence: str, previous: str = "") -> bool:
    """A verdict whose nearest interval in the sentence contains the alternative: "below 1"
    with [0.91, 1.02]; "beats"/"higher"/"better" with an interval of a difference that straddles
    0 (or touches it, in a sentence about a difference). A reference verdict ("below 1") in a
    sentence without an interval is read against the last interval of the ``previous`` sentence
    of its paragraph ("The slope is 0.95 (0.91 to 1.02). It is slightly below 1."). Questions,
    negated verdicts and sentences that say the interval contains the alternative are left alone."""
    if sentence.rstrip().endswith("?") or _UNDECIDED.search(sentence):
        return False
    ivs = intervals(sentence)
    if not ivs:
        before = intervals(previous) if previous and not _UNDECIDED.search(previous) else []
        return bool(before) and any(
            before[-1].lo <= numbers(m.group("ref"))[0].value <= before[-1].hi
            for m in _REFERENCE.finditer(sentence)
            if not _negated(sentence, m.start())
        )
    about_difference = bool(re.search(r"\bdifference|\bgap\b|\bby\s+[-−+]?\d|(?<![\w.])[-−+]\d", sentence, re.I))
    taken: list[tuple[int, int]] = []
    for m in _REFERENCE.finditer(sentence):
        if _negated(sentence, m.start()):
            continue
        taken.append((m.start(), m.end()))
        ref = numbers(m.group("ref"))[0].value
        iv = _nearest([i for i in ivs if not (i.start <= m.start() < i.end)], m.start(), m.end())
        if iv is not None and iv.lo <= ref <= iv.hi:
            return True
    verdicts = [m.start() for m in _DIFFERENCE.finditer(sentence)]
    for m in _DIFFERENCE.finditer(sentence):
        if _negated(sentence, m.start()) or any(a <= m.start() < b for a, b in taken):
            continue
        iv = _own_interval(ivs, verdicts, m.start(), m.end())
        if iv is None:
            continue
        if iv.lo < 0 < iv.hi or (about_difference and iv.lo <= 0 <= iv.hi):
            return True
    return False


# ----------------------------------------------------------------------------- rule 4: placeholders

_PLACEHOLDER = re.compile(r"\[(?:value from|not measured in) the \w+ run\]|(?<![\w`'\"-])(?:nan|NaN)(?![\w`'\"-])")
_NO_DATA = re.compile(r"^\s*none\b|fallback|unavailable|not available|no data", re.I)


def _leaves(value) -> list[str]:
    if isinstance(value, dict):
        return [s for v in value.values() for s in _leaves(v)] + [str(k) for k in value]
    if isinstance(value, (list, tuple)):
        return [s for v in value for s in _leaves(v)]
    return [str(value)]


def built_with_data(record: dict | None) -> bool:
    """Whether a results record says its run used the real data: it names a ``data_source`` and
    no source (or section key) reads "none ...", "... unavailable", "no data" or "fallback"."""
    if not record or not record.get("data_source"):
        return False
    return not any(_NO_DATA.search(s) for s in _leaves(record["data_source"]))


def placeholder(sentence: str) -> bool:
    return bool(_PLACEHOLDER.search(sentence))


# ----------------------------------------------------------------------------- sentences, cells, files

CHECKS: dict[str, Callable[..., bool]] = {
    "comparative-sign": comparative_sign,
    "quantifier-share": quantifier_share,
    "verdict-interval": verdict_interval,
    "placeholder": placeholder,
}


def check_sentence(sentence: str, with_data: bool = True, previous: str = "") -> list[str]:
    """The rules one sentence breaks (``placeholder`` only when ``with_data``; ``previous``: the
    sentence before it in its paragraph, for ``verdict-interval``)."""
    sentence, previous = _inline_plain(sentence), _inline_plain(previous)
    broken = []
    for rule, check in CHECKS.items():
        if rule == "placeholder" and not with_data:
            continue
        if check(sentence, previous) if rule == "verdict-interval" else check(sentence):
            broken.append(rule)
    return broken


def check_text(markdown: str, with_data: bool = True) -> list[tuple[str, str]]:
    """``(rule, sentence)`` for every finding in a Markdown text."""
    found = []
    for block in _blocks(markdown):
        previous = ""
        for s in split_sentences(block):
            found += [(rule, shown(s)) for rule in check_sentence(s, with_data, previous)]
            previous = s
    return found


def _label(path: Path) -> str:
    path = Path(path).resolve()
    return str(path.relative_to(PROJECT_ROOT)) if path.is_relative_to(PROJECT_ROOT) else str(path)


def _record(path: Path | None) -> dict | None:
    if path is None or not path.exists():
        return None
    try:
        record = json.loads(path.read_text())
    except json.JSONDecodeError:
        return None
    return record if isinstance(record, dict) else None


def markdown_cells(nb, profile: str = "cpu") -> list[tuple[int, str]]:
    """``(cell index, Markdown a reader sees)``: a readable copy's cells as they are (the cell
    that states where the numbers come from left out); an executed chapter's cells rendered with
    the values its run glued (:func:`reliable_ml.course.results.glued_in`)."""
    meta = nb.metadata.get("reliable_ml", {})
    if meta.get("readable_copy_of"):
        return [
            (i, c.source)
            for i, c in enumerate(nb.cells)
            if c.cell_type == "markdown" and not c.source.lstrip("> ").startswith("**Readable copy of this chapter.**")
        ]
    from reliable_ml.course import readable
    from reliable_ml.course.results import glued_in

    works = readable.bibliography() if readable.BIB.exists() else {}
    ctx = readable.Context(glued=glued_in(nb), profile=profile, works=works)
    return [(i, readable.render_markdown(c.source, ctx)) for i, c in enumerate(nb.cells) if c.cell_type == "markdown"]


# The titles of the notes a run shows when it skips a section or falls back to other data
# (reliable_ml.util.notes): such a run glues NaN or placeholders for what it skipped, on purpose.
SKIP_NOTES = ("Data missing: section skipped", "Fallback data in use")


def shows_skipped_sections(nb) -> bool:
    """Whether an executed notebook's outputs hold a note that a section was skipped for missing
    data, or that fallback data was used."""
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            text = str(out.get("text", "")) + str(out.get("data", {}))
            if any(title in text for title in SKIP_NOTES):
                return True
    return False


def check_notebook(path: Path, profile: str | None = None, results_dir: Path | None = None) -> list[Finding]:
    """Findings in one notebook: a readable copy (its metadata names the results file it quotes)
    or an executed chapter (its results: ``<results>/<profile>/<stem>.json``; the profile is the
    folder's name when that is one, else ``profile``, else cpu)."""
    import nbformat

    from reliable_ml.settings import PROFILES

    path = Path(path)
    nb = nbformat.read(str(path), as_version=4)
    meta = nb.metadata.get("reliable_ml", {})
    root = Path(results_dir or results_root())
    if meta.get("numbers_from"):
        source = Path(meta["numbers_from"])
        profile = source.parent.name
        record = _record(root / source.parent.name / source.name)
    else:
        profile = profile or (path.parent.name if path.parent.name in PROFILES else "cpu")
        record = _record(root / profile / f"{path.stem}.json")
    with_data = built_with_data(record) and not shows_skipped_sections(nb)
    findings = []
    for index, text in markdown_cells(nb, profile):
        for rule, sentence in check_text(text, with_data):
            findings.append(Finding(_label(path), index, rule, sentence))
    return findings


def check_paths(paths, profile: str | None = None, results_dir: Path | None = None) -> list[Finding]:
    """Findings in every notebook of ``paths`` (files, or folders whose ``NN_*.ipynb`` are read)."""
    files: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            files += sorted(p.glob("[0-9][0-9]_*.ipynb"))
        elif p.exists():
            files.append(p)
        else:
            raise FileNotFoundError(f"no notebook or folder {p}")
    return [f for path in files for f in check_notebook(path, profile, results_dir)]


def default_paths(profile: str = "cpu", lab: Path = LAB_DIR, build_dir: Path | None = None) -> list[Path]:
    """What readers read: the readable copies (for the cpu profile, whose numbers they quote) and
    the executed book pages of ``profile`` when they exist."""
    from reliable_ml.course.runner import BUILD_DIR

    paths = [Path(lab)] if profile == "cpu" and Path(lab).is_dir() else []
    executed = Path(build_dir or BUILD_DIR) / "executed" / profile
    if executed.is_dir():
        paths.append(executed)
    return paths


def book_findings(
    profile: str, executed: Path, lab: Path | None = LAB_DIR, results_dir: Path | None = None
) -> list[Finding]:
    """What ``make book`` checks after the build: the executed pages in ``executed`` and the
    readable copies in ``lab`` (``None``: none; the book passes them for the cpu profile, whose
    numbers they quote)."""
    paths = ([Path(lab)] if lab is not None and Path(lab).is_dir() else []) + (
        [Path(executed)] if Path(executed).is_dir() else []
    )
    return check_paths(paths, profile, results_dir)


def report(findings: list[Finding], stream=None) -> None:
    import sys

    stream = stream or sys.stdout
    for f in findings:
        print(f, file=stream)
