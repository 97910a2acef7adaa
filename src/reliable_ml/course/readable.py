"""Readable copies of the chapters: the notebooks that JupyterLab, Binder and Colab open.

The chapters' Markdown is MyST: ``{glue:text}`name:.1f``` roles for every number, ``{cite}``
roles, exercise and admonition directives. Only Jupyter Book renders it; opened anywhere else
a reader sees the markup. A readable copy (``lab/NN_name.ipynb``) is the chapter's notebook
with every Markdown cell rendered to plain Markdown:

* glue roles show the value the run glued (``results/<profile>/<stem>.json``, key ``glued``,
  written by the run itself: see :func:`reliable_ml.course.results.record_glued`), formatted
  with the role's format spec as myst-nb does; a value the results file does not hold reads
  ``[value from the cpu run]``, one the run did not measure (NaN, a section skipped for missing
  data) ``[not measured in the cpu run]``;
* ``{cite}`` reads "(Author et al., Year)" and ``{cite:t}`` "Author et al. (Year)", from
  ``book/references.bib``; the cited works are listed at the end;
* exercise, solution and admonition directives become headings and quotes, cross-reference
  roles their text, ``(label)=`` targets and MyST comments are dropped.

Code cells are kept as they are (the install cell stays first), so the copy runs like the
chapter; a Markdown cell after the install cell says where the numbers in the text come from.
``python -m reliable_ml readable`` (and ``make book`` after a cpu run) regenerates the copies;
a test checks that the committed ones match the chapters and the committed cpu results.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from reliable_ml.course.results import PROJECT_ROOT, results_root

LAB_DIR = PROJECT_ROOT / "lab"
BIB = PROJECT_ROOT / "book" / "references.bib"
PLACEHOLDER = "[value from the {profile} run]"
NOT_MEASURED = "[not measured in the {profile} run]"
ADMONITIONS = {
    "note",
    "warning",
    "important",
    "tip",
    "hint",
    "caution",
    "attention",
    "danger",
    "error",
    "seealso",
    "admonition",
    "margin",
    "sidebar",
    "topic",
    "dropdown",
    "epigraph",
}
_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,}|:{3,})(?P<rest>.*)$")
_DIRECTIVE = re.compile(r"^\{(?P<name>[\w:.-]+)\}\s*(?P<arg>.*)$")
_ROLE = re.compile(r"\{(?P<name>[\w:.-]+)\}`(?P<body>[^`]*)`")
# a role; a glue role the author wrapped in backticks (`{glue:text}`name``, meant as code); a code span
_INLINE = re.compile(
    r"`\{(?P<wname>glue[\w:.-]*)\}`(?P<wbody>[^`]*)``"
    r"|\{(?P<name>[\w:.-]+)\}`(?P<body>[^`]*)`|(?P<ticks>`+).+?(?P=ticks)"
)


# ----------------------------------------------------------------------------- bibliography


@dataclass(frozen=True)
class Work:
    key: str
    authors: tuple[str, ...]  # last names
    year: str
    full: str  # one line for the reference list

    def names(self) -> str:
        if not self.authors:
            return self.key
        if len(self.authors) == 1:
            return self.authors[0]
        if len(self.authors) == 2:
            return f"{self.authors[0]} and {self.authors[1]}"
        return f"{self.authors[0]} et al."


def _latex_text(text: str) -> str:
    from pybtex.richtext import Text

    try:
        return str(Text.from_latex(text)).replace("\u00a0", " ").strip()
    except Exception:  # odd LaTeX: keep the text without braces
        return re.sub(r"[{}]", "", text).strip()


@lru_cache(maxsize=4)
def _bibliography(path: str, stamp: float) -> dict[str, Work]:
    import pybtex.database

    db = pybtex.database.parse_file(path)
    works = {}
    for key, entry in db.entries.items():
        people = entry.persons.get("author") or entry.persons.get("editor") or []
        last = tuple(_latex_text(" ".join(p.prelast_names + p.last_names)) for p in people)
        full_names = ", ".join(
            _latex_text(" ".join(p.last_names))
            + (", " + " ".join(n[0] + "." for n in p.first_names + p.middle_names if n) if p.first_names else "")
            for p in people
        )
        fields = entry.fields
        year = fields.get("year", "n.d.")
        venue = (
            fields.get("journal")
            or fields.get("booktitle")
            or fields.get("publisher")
            or fields.get("howpublished")
            or fields.get("note")
            or ""
        )
        title = _latex_text(fields.get("title", key))
        full = f"{full_names} ({year}). *{title}*" + ("" if title[-1:] in ".?!" else ".")
        full += f" {_latex_text(venue)}." if venue else ""
        if fields.get("url"):
            full += f" <{fields['url']}>"
        works[key] = Work(key, last, year, full)
    return works


def bibliography(path: Path = BIB) -> dict[str, Work]:
    """``key -> Work`` for every entry of the book's ``references.bib`` (parsed with pybtex)."""
    path = Path(path)
    return _bibliography(str(path), path.stat().st_mtime)


# ----------------------------------------------------------------------------- rendering


@dataclass
class Context:
    """What rendering one chapter needs and records: its glued values (``None`` when the
    results file holds none), the profile they come from, the bibliography; the glue roles
    pasted (``(name, text shown)``), the works cited, the exercises numbered."""

    glued: dict | None
    profile: str = "cpu"
    works: dict[str, Work] = field(default_factory=dict)
    pasted: list[tuple[str, str]] = field(default_factory=list)
    cited: list[str] = field(default_factory=list)
    exercises: dict[str, int] = field(default_factory=dict)
    n_exercises: int = 0

    @property
    def placeholder(self) -> str:
        return PLACEHOLDER.format(profile=self.profile)


def format_value(value, fmt: str) -> str:
    """``value`` formatted with the format spec ``fmt`` as myst-nb's ``{glue:text}`` does
    (the type character decides: ``f``/``%``/``e``/``g`` take a float, ``d`` an int, ``s`` a string)."""
    if fmt == "":
        return str(value)
    kind = fmt[-1]
    try:
        if kind == "s":
            value = str(value)
        elif kind in "bcdoxX":
            value = int(value)
        elif kind in "eEfFgGn%":
            value = float(value)
        return format(value, fmt)
    except (TypeError, ValueError):
        return str(value)


def _paste(name_fmt: str, role: str, ctx: Context) -> str:
    name, fmt = (name_fmt.rsplit(":", 1) + [""])[:2] if ":" in name_fmt else (name_fmt, "")
    name = name.split("::")[-1].strip()
    if role in ("glue:md",):
        fmt = ""  # a Markdown flavour, not a format spec
    if ctx.glued is None or name not in ctx.glued:
        shown = ctx.placeholder
    else:
        value = ctx.glued[name]
        if value is None:
            shown = NOT_MEASURED.format(profile=ctx.profile)
        elif isinstance(value, dict) and "markdown" in value:
            shown = render_inline(str(value["markdown"]).strip(), ctx)
        else:
            shown = format_value(value, fmt)
    ctx.pasted.append((name, shown))
    return shown


def _cite(keys: str, role: str, ctx: Context) -> str:
    works = []
    for key in (k.strip() for k in keys.split(",")):
        if not key:
            continue
        if key not in ctx.cited:
            ctx.cited.append(key)
        works.append(ctx.works.get(key))
    parts = [(w.names(), w.year) if w else (f"[{k.strip()}]", "") for w, k in zip(works, keys.split(","))]
    if role in ("cite:t", "cite:ts", "cite:ct", "cite:cts"):
        return "; ".join(f"{n} ({y})" if y else n for n, y in parts)
    if role in ("cite:author", "cite:authors"):
        return "; ".join(n for n, _ in parts)
    if role in ("cite:year", "cite:yearpar"):
        return "; ".join(y for _, y in parts)
    return "(" + "; ".join(f"{n}, {y}" if y else n for n, y in parts) + ")"


def _title_and_target(body: str) -> tuple[str, str]:
    m = re.match(r"^(.*?)\s*<([^<>]+)>$", body.strip())
    return (m.group(1).strip(), m.group(2).strip()) if m else ("", body.strip())


def _role(match: re.Match, ctx: Context) -> str:
    name, body = match.group("name"), match.group("body")
    if name.startswith("glue"):
        return _paste(body, name, ctx)
    if name.startswith("cite"):
        return _cite(body, name, ctx)
    if name in ("math",):
        return f"${body}$"
    if name in ("eq",):
        return f"({body})"
    if name in ("doc", "download"):
        text, target = _title_and_target(body)
        stem = Path(target).name
        if re.match(r"^\d\d_\w+$", stem):  # another chapter: its readable copy, next to this one
            return f"[{text or stem}]({stem}.ipynb)"
        return text or stem
    if name in ("ref", "numref", "term", "abbr"):
        text, target = _title_and_target(body)
        text = re.sub(r"\s*(%s|\{number\}|\{name\})\s*", " ", text).strip()
        return text or target.replace("-", " ").replace("_", " ")
    if name in ("sub", "subscript"):
        return f"<sub>{body}</sub>"
    if name in ("sup", "superscript"):
        return f"<sup>{body}</sup>"
    if name == "kbd":
        return f"<kbd>{body}</kbd>"
    if name in ("guilabel", "menuselection"):
        return f"**{body}**"
    return body  # any other role: its text


def render_inline(text: str, ctx: Context) -> str:
    """Replace every role in ``text`` (not inside code spans) by readable text."""

    def one(m: re.Match) -> str:
        if m.group("wname"):
            return "`" + _paste(m.group("wbody"), m.group("wname"), ctx) + "`"
        return _role(m, ctx) if m.group("name") else m.group(0)

    return _INLINE.sub(one, text)


def _options(body: list[str]) -> tuple[dict[str, str], list[str]]:
    """Split a directive body into its ``:key: value`` (or ``---`` YAML) options and content."""
    options: dict[str, str] = {}
    lines = list(body)
    if lines and lines[0].strip() == "---":
        end = next((i for i in range(1, len(lines)) if lines[i].strip() == "---"), None)
        if end is not None:
            for line in lines[1:end]:
                key, _, value = line.partition(":")
                options[key.strip()] = value.strip()
            lines = lines[end + 1 :]
    while lines and re.match(r"^\s*:[\w-]+:", lines[0]):
        key, _, value = lines.pop(0).strip()[1:].partition(":")
        options[key.strip()] = value.strip()
    while lines and not lines[0].strip():
        lines.pop(0)
    return options, lines


def _quote(text: str) -> str:
    return "\n".join(f"> {line}" if line.strip() else ">" for line in text.strip("\n").split("\n"))


def _directive(name: str, arg: str, body: list[str], ctx: Context) -> str:
    options, content = _options(body)
    inner = render_markdown("\n".join(content), ctx).strip("\n")
    arg = render_inline(arg.strip(), ctx)
    if name in ("exercise", "exercise-start"):
        ctx.n_exercises += 1
        if options.get("label"):
            ctx.exercises[options["label"]] = ctx.n_exercises
        head = f"#### Exercise {ctx.n_exercises}" + (f": {arg}" if arg else "")
        return head + ("\n\n" + inner if inner else "")
    if name in ("solution", "solution-start"):
        number = ctx.exercises.get(arg.split()[0] if arg else "")
        head = f"#### Solution to exercise {number}" if number else "#### Solution"
        return head + ("\n\n" + inner if inner else "")
    if name in ("exercise-end", "solution-end", "bibliography", "toctree", "tableofcontents"):
        return ""
    if name in ("math",):
        return f"$$\n{inner}\n$$"
    if name in ("code", "code-block", "code-cell", "sourcecode"):
        return f"```{arg}\n" + "\n".join(content) + "\n```"
    if name in ("figure", "image"):
        return f"![{inner or options.get('alt', '')}]({arg})"
    if name.startswith("glue"):
        shown = (
            _paste(arg, "glue:text" if name != "glue:md" else "glue:md", ctx)
            if name != "glue:figure"
            else f"*(The figure `{arg}` is drawn when you run the cells of this section.)*"
        )
        return shown + ("\n\n" + inner if inner else "")
    if name in ADMONITIONS:
        title = arg if name == "admonition" and arg else name.replace("seealso", "see also").capitalize()
        if name in ("margin", "sidebar", "topic", "dropdown", "epigraph") and arg:
            title = arg
        return _quote(f"**{title}.** {inner}" if inner else f"**{title}.**")
    return (f"**{arg}**\n\n" if arg else "") + inner  # any other directive: its content


def render_markdown(text: str, ctx: Context) -> str:
    """A MyST Markdown cell as plain (CommonMark + math) Markdown: directives become headings
    and quotes, roles readable text, targets and comments are dropped. Code blocks are kept."""
    lines = text.split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        fence = _FENCE.match(line)
        if fence:
            marker, rest = fence.group("fence"), fence.group("rest").strip()
            close = re.compile(rf"^[ \t]*{re.escape(marker[0])}{{{len(marker)},}}[ \t]*$")
            end = next((j for j in range(i + 1, len(lines)) if close.match(lines[j])), len(lines))
            body = lines[i + 1 : end]
            directive = _DIRECTIVE.match(rest)
            if directive and (marker[0] != ":" or True):
                out.append(_directive(directive.group("name"), directive.group("arg"), body, ctx))
            elif marker[0] == ":":  # a colon fence without a directive: keep its content
                out.append(render_markdown("\n".join(body), ctx))
            else:  # a code block: verbatim
                out.extend(lines[i : end + 1])
            i = end + 1
            continue
        stripped = line.strip()
        if re.match(r"^\([\w.:-]+\)=$", stripped) or stripped == "+++" or re.match(r"^%( |$)", line):
            i += 1
            continue
        line = re.sub(r"(\$\$)\s*\([\w.:-]+\)\s*$", r"\1", line)  # a labelled equation
        out.append(render_inline(line, ctx))
        i += 1
    rendered = "\n".join(out)
    return re.sub(r"\n{3,}", "\n\n", rendered).strip("\n") if "\n\n\n" in rendered else rendered.strip("\n")


# ----------------------------------------------------------------------------- notebooks


def _source(stem: str, notebooks: Path) -> Path:
    path = Path(notebooks) / f"{stem}.py"
    if not path.exists():
        chapters = ", ".join(sorted(p.stem for p in Path(notebooks).glob("[0-9][0-9]_*.py")))
        raise ValueError(f"no chapter {stem!r} in {notebooks}; chapters: {chapters}")
    return path


def load_results(stem: str, profile: str = "cpu", results_dir: Path | None = None) -> dict | None:
    """The chapter's results record in ``profile`` (``None`` when there is none)."""
    path = Path(results_dir or results_root()) / profile / f"{stem}.json"
    return json.loads(path.read_text()) if path.exists() else None


def provenance(stem: str, record: dict | None, profile: str) -> str:
    """The Markdown cell that opens a readable copy: where its numbers come from."""
    where = f"`results/{profile}/{stem}.json`"
    head = (
        f"> **Readable copy of this chapter.** The book renders this chapter from "
        f"`notebooks/{stem}.py`; this copy has its text rendered for Jupyter, Binder and Colab."
    )
    if record is None:
        body = (
            f"No {profile} run of this chapter is recorded yet ({where} is missing), so every "
            f"number in the text reads {PLACEHOLDER.format(profile=profile)}."
        )
    else:
        seconds = record.get("wall_seconds")
        took = f", {seconds / 60:.1f} min" if isinstance(seconds, (int, float)) else ""
        run = (
            f"the {profile} run recorded in {where} (commit `{record.get('commit', 'unknown')}`, "
            f"device {record.get('device', 'unknown')}{took}, {str(record.get('created', ''))[:10]})"
        )
        if record.get("glued"):
            body = f"The numbers in the text come from {run}."
        else:
            body = (
                f"The results of {run} predate the recording of the numbers quoted in the text, "
                f"so they read {PLACEHOLDER.format(profile=profile)}; running the chapter again "
                f"(`python -m reliable_ml run {stem[:2]} --profile {profile}`) records them."
            )
    tail = (
        "The cells you run print your own numbers, which can differ from those in the text "
        "(other data, hardware or settings). Run the first cell first: on Colab it installs "
        "the course package."
    )
    return "\n".join([head, ">", _quote(body), ">", _quote(tail)])


def references(ctx: Context) -> str:
    lines = ["## References", ""]
    for key in ctx.cited:
        work = ctx.works.get(key)
        lines.append(f"* {work.full if work else f'[{key}] (not in book/references.bib)'}")
    return "\n".join(lines)


def render_readable(
    stem: str, profile: str = "cpu", *, notebooks: Path | None = None, results_dir: Path | None = None, bib: Path = BIB
):
    """The readable copy of chapter ``stem`` (an ``nbformat`` notebook) with the numbers of its
    ``profile`` run. Returns ``(notebook, context)``; the context lists what was pasted and cited."""
    import nbformat

    from reliable_ml.course.runner import NOTEBOOK_DIR, read_notebook

    notebooks = Path(notebooks or NOTEBOOK_DIR)
    nb = read_notebook(_source(stem, notebooks))
    record = load_results(stem, profile, results_dir)
    glued = record.get("glued") if record else None
    ctx = Context(glued=glued or None, profile=profile, works=bibliography(bib))
    cells = []
    for cell in nb.cells:
        meta = {k: v for k, v in cell.metadata.items() if k in ("tags", "slideshow")}
        if cell.cell_type == "markdown":
            cells.append(nbformat.v4.new_markdown_cell(render_markdown(cell.source, ctx), metadata=meta))
        elif cell.cell_type == "code":
            cells.append(nbformat.v4.new_code_cell(cell.source, metadata=meta))
        else:
            cells.append(nbformat.v4.new_raw_cell(cell.source, metadata=meta))
    note = nbformat.v4.new_markdown_cell(provenance(stem, record, profile))
    first_code = 1 if cells and cells[0].cell_type == "code" else 0  # the install cell stays first
    cells.insert(first_code, note)
    if ctx.cited:
        cells.append(nbformat.v4.new_markdown_cell(references(ctx)))
    for i, cell in enumerate(cells):  # stable ids: the same inputs write the same file
        cell.id = hashlib.sha1(f"{stem}:{i}".encode()).hexdigest()[:12]
    out = nbformat.v4.new_notebook(cells=cells)
    out.metadata = {
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"},
        "reliable_ml": {"readable_copy_of": f"notebooks/{stem}.py", "numbers_from": f"results/{profile}/{stem}.json"},
    }
    return out, ctx


def text_of(nb) -> str:
    import nbformat

    return nbformat.writes(nb) + "\n"


def write_all(
    profile: str = "cpu", folder: Path = LAB_DIR, *, notebooks: Path | None = None, results_dir: Path | None = None
) -> list[Path]:
    """Write the readable copy of every chapter into ``folder`` (removing copies of chapters
    that no longer exist); return the files that changed."""
    from reliable_ml.course.runner import NOTEBOOK_DIR

    notebooks = Path(notebooks or NOTEBOOK_DIR)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    stems = [p.stem for p in sorted(notebooks.glob("[0-9][0-9]_*.py"))]
    changed = []
    for stem in stems:
        nb, _ = render_readable(stem, profile, notebooks=notebooks, results_dir=results_dir)
        path = folder / f"{stem}.ipynb"
        text = text_of(nb)
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
            changed.append(path)
    for stale in sorted(folder.glob("[0-9][0-9]_*.ipynb")):
        if stale.stem not in stems:
            stale.unlink()
            changed.append(stale)
    return changed


def out_of_sync(
    profile: str = "cpu", folder: Path = LAB_DIR, *, notebooks: Path | None = None, results_dir: Path | None = None
) -> list[str]:
    """Readable copies in ``folder`` that differ from what :func:`write_all` would write now
    (missing, stale or changed), by file name."""
    from reliable_ml.course.runner import NOTEBOOK_DIR

    notebooks = Path(notebooks or NOTEBOOK_DIR)
    stems = [p.stem for p in sorted(notebooks.glob("[0-9][0-9]_*.py"))]
    problems = []
    for stem in stems:
        path = Path(folder) / f"{stem}.ipynb"
        nb, _ = render_readable(stem, profile, notebooks=notebooks, results_dir=results_dir)
        if not path.exists():
            problems.append(f"{path.name} (missing)")
        elif path.read_text() != text_of(nb):
            problems.append(f"{path.name} (differs)")
    problems += [
        f"{p.name} (no such chapter)" for p in sorted(Path(folder).glob("[0-9][0-9]_*.ipynb")) if p.stem not in stems
    ]
    return problems
