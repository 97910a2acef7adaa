"""The prose check (python -m reliable_ml check-prose; make book runs it after the build): each rule
flags the sentences that once shipped, and passes their corrected versions."""

from __future__ import annotations

import json
import time
from pathlib import Path

import nbformat
import pytest

from reliable_ml.course import cli, prose, readable, results, runner

# ----------------------------------------------------------------------------- the rules, on sentences

SHIPPED = [  # sentences the chapters printed, with the rule that catches each
    (
        "At $L_2$ radius 6 both kinds of model are pushed to the target on most images (standard 100%, robust\n5%).",
        "quantifier-share",
    ),
    (
        "(mean ± sd over their seeds; against each standard seed the robust model's share is higher by -32.5 to -20.0\n"
        "points)",
        "comparative-sign",
    ),
    ("The CIFAR-10.1 probit slope is slightly below 1 (0.95 [0.91, 1.02]).", "verdict-interval"),
    (
        "The slope is 0.95 (0.91 to 1.02) on the probit scale. In probit units the slope is slightly below 1.",
        "verdict-interval",
    ),
    ("The robust model beats the standard one (difference +0.4 [-0.3, 1.1]).", "verdict-interval"),
    ("Teams that selected by their public score scored -0.04 points better on the public part.", "comparative-sign"),
]
CORRECTED = [
    "Against each standard seed the robust model's share is lower by 32.5 to 20.0 points.",
    "At radius 6 the attack pushes the standard models to the target on every image (100%), "
    "the robust model on few (5%).",
    "The CIFAR-10.1 probit slope is 0.95 [0.91, 1.02]: the interval contains 1, so the data cannot tell.",
    "The slope is 0.95 (0.91 to 0.99) on the probit scale. In probit units the slope is slightly below 1.",
    "The robust model and the standard one: the data cannot tell them apart (difference +0.4 [-0.3, 1.1]).",
    "Image by image, EOT's share is higher by 8.7 points on average (paired 95% interval 6.4 to 11.2).",
]


@pytest.mark.parametrize("text,rule", SHIPPED)
def test_the_sentences_that_shipped_are_flagged(text, rule):
    assert rule in [r for r, _ in prose.check_text(text)]


@pytest.mark.parametrize("text", CORRECTED)
def test_their_corrected_versions_pass(text):
    assert prose.check_text(text) == []
    assert prose.check_text("The robust model is higher by $-3$ points, and $x = 1. Y$ is one sentence.") == []


@pytest.mark.parametrize(
    "sentence,rule",
    [
        ("The defended model is -3.2 points lower than the standard one.", "comparative-sign"),
        ("On Amazon reviews the model loses -0.5 points.", "comparative-sign"),
        ("It gains −1.2 points (a Unicode minus).", "comparative-sign"),
        ("The attack succeeds on nearly all draws (75%).", "quantifier-share"),
        ("The judge sees the original digit on the majority of images (38.0%).", "quantifier-share"),
        ("It flips no image at all (3%).", "quantifier-share"),
        ("The attack reaches the target on every image (99.5%).", "quantifier-share"),
        ("The slope is above 1 [0.97, 1.08].", "verdict-interval"),
        ("The augmented models are more robust, difference 0.0 points [0.0, 2.1].", "verdict-interval"),
    ],
)
def test_more_failing_controls(sentence, rule):
    assert prose.check_sentence(sentence) == [rule]


@pytest.mark.parametrize(
    "sentence",
    [
        "Its re-evaluation runs 0.1-0.3 points below the original ImageNetV2 evaluation.",  # a range, not -0.3
        "CIFAR-10 models are higher by 3 points on CIFAR-10.1 than the line predicts.",
        "The attack does not reach its target on every image (it did on 75% of them).",  # negated
        "The clean-accuracy cost is -0.3 points on average (a negative cost means the defence gained accuracy).",
        "The standard models score 0.0% (seeds: 0.0–0.0%) under the grid.",
        "Most images (95% interval 60–80%) keep their label.",  # 95% is a level, not a share
        "The attack succeeds on nearly all draws (93%; 95% interval 89–97%).",  # bounds are not shares
        "None of the images (0.0%) is flipped, and all images (100.0%) keep their label.",
        "The slope is below 1 (0.91 to 0.93), and r² is 0.99 [0.98, 1.00].",
        "Is the slope below 1 [0.91, 1.02]?",
        "The slope is not below 1 [0.91, 1.02].",
        "A drop of 12.3 points for a model at 60% and 10.6 at 85%, below 1 on the probit scale.",
        "EOT's share is higher; the accuracies are 74.6% (67.8–80.7%) and 83.3% (76.4–89.5%).",
    ],
)
def test_correct_prose_is_not_flagged(sentence):
    assert prose.check_sentence(sentence) == []


def test_placeholders_count_only_in_a_chapter_built_with_the_data():
    for text in (
        "The drop is [value from the cpu run] points.",
        "The drop is [not measured in the gpu run].",
        "The drop is nan points.",
    ):
        assert prose.check_sentence(text, with_data=True) == ["placeholder"]
        assert prose.check_sentence(text, with_data=False) == []
    assert prose.check_sentence("A NaN-safe mean (`nanmean`) skips them.", with_data=True) == []
    assert prose.built_with_data({"data_source": {"mnist": "MNIST", "gaussian": "simulation, not real data"}})
    for source in (
        "none (testbed, MNIST and CIFAR-10.1 all unavailable)",
        {"none": "no data available"},
        {"mnist": "scikit-learn digits (fallback: mnist unavailable)"},
        "",
    ):
        assert not prose.built_with_data({"data_source": source})
    assert not prose.built_with_data(None)


# ----------------------------------------------------------------------------- Markdown and MyST


def test_sentences_set_code_math_links_tables_and_citations_aside():
    text = (
        "**What the numbers show.** At $L_2$ radius 6, e.g. here, Recht et al. (2019) saw it. "
        "See [chapter 4](04_adversarial_training.ipynb) {cite}`madry2018`.\n\n"
        "| model | acc |\n|---|---|\n| a | -3 |\n\n```python\nhigher by -3\n```\n\n"
        "$$\nx = -1\n$$\n\n- item one is `higher by -2`\n- item two\n\n# A heading"
    )
    assert prose.sentences(text) == [
        "What the numbers show.",
        "At $L_2$ radius 6, e.g. here, Recht et al. (2019) saw it.",
        "See chapter 4 .",
        "item one is `higher by -2`",
        "item two",
        "A heading",
    ]
    assert prose.check_text(text) == []


def test_numbers_read_their_sign_in_context():
    values = [n.value for n in prose.numbers("by -32.5 to −20.0, 0.1-0.3, CIFAR-10, (-0.6 to +0.1), 1,234.5%")]
    assert values == [-32.5, -20.0, 0.1, 0.3, 10.0, -0.6, 0.1, 1234.5]


def test_an_executed_page_is_checked_with_the_values_its_run_glued(tmp_path):
    res = tmp_path / "results"
    (res / "cpu").mkdir(parents=True)
    (res / "cpu" / "98_page.json").write_text(json.dumps({"data_source": "MNIST"}))
    page = executed_page(
        tmp_path / "executed" / "cpu",
        "98_page",
        -3.0,
        "Robust training is higher by {glue:text}`d:.1f` points {cite}`madry2018`. It leaves {glue:text}`absent:.1f`.",
    )
    findings = prose.check_notebook(page, results_dir=res)
    assert [(f.cell, f.rule) for f in findings] == [(1, "comparative-sign"), (1, "placeholder")]
    assert findings[0].sentence.startswith("Robust training is higher by -3.0 points (")
    assert str(findings[0]).startswith(f"{page}:1: comparative-sign: Robust training is higher by -3.0")


# ----------------------------------------------------------------------------- make book fails on a finding

TINY = (
    '# %% tags=["remove-cell"]\n# install\n\n'
    '# %%\nfrom myst_nb import glue\nd = {d}\nglue("d", d, display=False)\n\n'
    "# %% [markdown]\n# The model is higher by {{glue:text}}`d:.1f` points.\n"
)


def executed_page(folder: Path, stem: str, d: float, markdown: str) -> Path:
    """An executed chapter as the runner leaves it: a code cell with myst-nb's glue output of d."""
    folder.mkdir(parents=True, exist_ok=True)
    cell = nbformat.v4.new_code_cell(f'glue("d", {d})')
    cell.outputs = [
        nbformat.v4.new_output(
            "display_data",
            data={f"{results.GLUE_PREFIX}text/plain": repr(d)},
            metadata={"scrapbook": {"name": "d", "mime_prefix": results.GLUE_PREFIX}},
        )
    ]
    path = folder / f"{stem}.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[cell, nbformat.v4.new_markdown_cell(markdown)]), path)
    return path


def tiny_book(tmp_path: Path, d: float, execute: bool = False) -> tuple[Path, Path, Path]:
    """The tiny chapter 99_tiny, its results (glued d), its readable copy and its executed page."""
    notebooks, res, lab = tmp_path / "notebooks", tmp_path / "results", tmp_path / "lab"
    executed = tmp_path / "_build" / "executed" / "cpu"
    notebooks.mkdir(parents=True)
    (res / "cpu").mkdir(parents=True)
    (notebooks / "99_tiny.py").write_text(TINY.format(d=d))
    (res / "cpu" / "99_tiny.json").write_text(json.dumps({"data_source": "MNIST", "glued": {"d": d}}))
    readable.write_all("cpu", lab, notebooks=notebooks, results_dir=res)
    if execute:
        import nbclient

        nb = runner.read_notebook(notebooks / "99_tiny.py")
        nbclient.NotebookClient(
            nb, kernel_name="python3", timeout=120, resources={"metadata": {"path": str(notebooks)}}
        ).execute()
        executed.mkdir(parents=True)
        nbformat.write(nb, executed / "99_tiny.ipynb")
    else:
        executed_page(executed, "99_tiny", d, "The model is higher by {glue:text}`d:.1f` points.")
    return lab, executed, res


def test_the_book_fails_when_a_glued_number_makes_a_sentence_false(tmp_path, capsys):
    lab, executed, res = tiny_book(tmp_path / "minus", -3.0)
    assert "The model is higher by -3.0 points." in nbformat.read(lab / "99_tiny.ipynb", 4).cells[-1].source
    assert cli.prose_gate("cpu", executed, allow=False, lab=lab, results_dir=res) == 1
    err = capsys.readouterr().err
    assert "99_tiny.ipynb:3: comparative-sign: The model is higher by -3.0 points." in err  # the readable copy
    assert "99_tiny.ipynb:1: comparative-sign: The model is higher by -3.0 points." in err  # the executed page
    assert "--allow-prose-findings" in err
    assert cli.prose_gate("cpu", executed, allow=True, lab=lab, results_dir=res) == 0
    assert "warning: 2 sentence(s) contradict their numbers; built anyway" in capsys.readouterr().err
    lab, executed, res = tiny_book(tmp_path / "plus", 3.0)
    assert cli.prose_gate("cpu", executed, allow=False, lab=lab, results_dir=res) == 0


@pytest.mark.slow
def test_the_book_gate_on_a_really_executed_page(tmp_path):
    pytest.importorskip("myst_nb")
    t0 = time.perf_counter()
    for d, expected in ((-3.0, 1), (3.0, 0)):
        lab, executed, res = tiny_book(tmp_path / str(d), d, execute=True)
        assert results.glued_in(nbformat.read(executed / "99_tiny.ipynb", 4)) == {"d": d}
        assert cli.prose_gate("cpu", executed, allow=False, lab=lab, results_dir=res) == expected
    assert time.perf_counter() - t0 < 300


def test_check_prose_command(tmp_path, capsys):
    lab, executed, res = tiny_book(tmp_path, -3.0)
    assert cli.main(["check-prose", str(executed)]) == 1
    out = capsys.readouterr()
    assert out.out.strip().endswith("comparative-sign: The model is higher by -3.0 points.")
    assert "1 prose finding(s) in 1 path(s)" in out.err
    clean = executed_page(tmp_path / "clean", "97_clean", 3.0, "The model is higher by {glue:text}`d:.1f` points.")
    assert cli.main(["check-prose", str(clean)]) == 0
    assert cli.main(["check-prose", str(tmp_path / "nowhere")]) == 2
    book_help = cli._parser()._subparsers._group_actions[0].choices["book"].format_help()
    assert "--allow-prose-findings" in book_help


def test_a_run_that_skipped_sections_is_not_held_to_the_placeholder_rule():
    """The no-data book: a chapter that says it skipped a section glues placeholders on purpose."""
    import nbformat

    from reliable_ml.course import prose

    note = nbformat.v4.new_code_cell("show_missing(...)")
    note.outputs = [
        nbformat.v4.new_output(
            "display_data",
            data={
                "text/html": (
                    '<div class="admonition warning"><p class="admonition-title">'
                    "Data missing: section skipped</p></div>"
                )
            },
        )
    ]
    nb = nbformat.v4.new_notebook(cells=[note])
    assert prose.shows_skipped_sections(nb)
    assert not prose.shows_skipped_sections(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1")]))


def test_a_verdict_word_takes_the_interval_that_follows_it():
    """Two clauses, two intervals: "higher" quotes [1.7, 17.5], not the clause before's [-0.2, +4.5]."""
    from reliable_ml.course import prose

    good = (
        "Paired on the same models, their ImageNet-C lift is not distinguishable from that on the natural "
        "shifts (difference +2.2 points [-0.2, +4.5]), and their PGD lift higher than on the natural "
        "shifts by 9.6 points [1.7, 17.5]."
    )
    bad = "Their PGD lift is higher than on the natural shifts by 9.6 points [-1.7, 17.5]."
    assert prose.check_sentence(good) == []
    assert "verdict-interval" in prose.check_sentence(bad)
