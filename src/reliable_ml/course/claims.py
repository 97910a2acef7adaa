"""The claims registry: every headline figure the course checks, in one place.

The scorecard page (``book/scorecard.md``), ``python -m reliable_ml scorecard`` and
``tests/test_scorecard.py`` read this list only. One ``dict`` per row:

- ``id``: short stable name; ``claim``: the claim in words.
- ``published``: the published figure, quoted from ``shared/reference/published_figures.md``;
  ``source``: where it was read; ``cite``: its BibTeX key in ``book/references.bib`` (the page
  cites it only when the key exists there).
- ``confirmed``: False where the reference file marks the figure *not confirmed* (or lacks it).
  Such a row can never be ``reproduced``. ``reference``: the claim's row in that file (None
  when it has none); a test checks ``confirmed`` against it where the file is available.
- ``notebook``: the chapter that measures it, its stem (``"04_adversarial_training"``): the
  claim reads ``results/<profile>/<notebook>.json``.
- ``keys``: the results keys that measure it, dotted paths in that notebook's results
  (``"imagenetv2_per_image.models.*.val"``); so are the keys among the ``rule``'s parameters. ``*``
  matches every entry of a per-model table; a key's own dots (``threshold0.7``) are fine. A key
  of another chapter's results is written in full, ``"<notebook stem>:<dotted.path>"`` (no claim
  needs one yet).
- ``profile``: ``"gpu"`` for rows only a gpu run can measure (``not measured`` without
  ``results/gpu``); absent: the fullest run there is (gpu, else cpu).
- ``data``: the ONE data source this claim was measured on; ``source_contains`` (optional): a
  results file counts only if its ``data_source`` contains this text (so an MNIST run never
  feeds a CIFAR-10 row when both write the same notebook's results); ``scope`` (optional): when
  the record nests this data set's figures under that key (04's gpu run: ``mnist``), read there.
- ``evidence``: ``"own run"`` (our experiment) or ``"released data"`` (recomputed from the
  authors' released data or predictions).
- ``setting``: ``"published"`` or ``"stand-in"`` (a smaller stand-in); ``setting_note`` says which.
- ``rule``: ``kind`` (a function in :data:`reliable_ml.course.scorecard.RULES`), its parameters,
  ``compares`` (``"figure"``: the rule sets our number against the published number; ``"effect"``:
  it tests that the effect exists or points the published way), where the tolerance comes from
  (``n``: the count(s) of the measurement, a number or a results key, from which the rule computes
  a 95% half-width at the measured accuracy; or ``tolerance_source``: what else it is, e.g. an
  exact recount or a bootstrap interval) and ``why`` (the reason in words; two-sided wherever a
  number is compared, and never passing an interval that also holds the null).
- ``not_comparable`` (optional): why our measure is not the published one (shown on the page).
- ``own_data``: required on every row that can only be ``qualitative`` (our own run, a stand-in or
  an unconfirmed figure): why it is not judged on the claim's own data (e.g. no chapter has the
  paper's data). Shown on the page beside a qualitative verdict. A row judged on the authors'
  released data or predictions where a chapter has them needs none.

Status: keys absent -> ``not measured``; a broken evaluation (e.g. masked gradients) -> ``not
reproduced``; ``not_comparable`` set, or a stand-in whose rule ``compares`` the figure -> ``not
comparable`` (the reason is shown: a stand-in is labelled a stand-in, not a failed
reproduction; set ``setting="published"`` when a run is in the published setting, and the same
rule then judges it); rule fails -> ``not reproduced`` (shown with its numbers); released data ->
``re-analysed``; a stand-in, or an unconfirmed figure -> ``qualitative``; our own run in the
published setting against a confirmed figure -> ``reproduced``. Tolerances are in percentage
points unless said otherwise; a 95% binomial half-width is 1.96 sqrt(p (1 - p) / n).
"""

from reliable_ml.settings.robust_cifar import TABLE as _ROBUST_CIFAR  # noqa: E402


def _cifar_gpu_recipe() -> str:
    """How chapter 04's gpu entry point (``experiments.robust_cifar``) trains and selects its
    CIFAR-10 model, read from its settings row, so the claim rows cannot drift from the code."""
    t = _ROBUST_CIFAR["gpu"].train
    how = (
        f"{t.attack_steps}-step PGD"
        if t.method == "pgd"
        else {"fgsm_rs": "FGSM-RS", "fgsm": "FGSM"}.get(t.method, t.method)
    )
    sel = (
        f"; its checkpoint is selected on {t.val_size:,} held-out training images, never on test images"
        if getattr(t, "keep_best", False)
        else ""
    )
    return f"PreActResNet-18 trained with {how} for {t.epochs} epochs (experiments.robust_cifar, gpu row){sel}"


_CIFAR_GPU_METHOD = _ROBUST_CIFAR["gpu"].train.method


CLAIMS: list[dict] = [
    dict(
        id="imagenetv2_drop",
        notebook="01_accuracy_decomposition",
        claim="ImageNet models lose accuracy on a new test set (ImageNetV2 MatchedFrequency)",
        published="11-14 % top-1",
        source="Recht et al. 2019, abstract",
        cite="recht2019imagenet",
        confirmed=True,
        reference="ImageNet drop on a new test set",  # its row in published_figures.md
        keys=["imagenetv2_per_image.models.*.val", "imagenetv2_per_image.models.*.matched_frequency"],
        data="ImageNetV2 per-image top-5 predictions of 67 models (Recht et al. 2019)",
        evidence="released data",
        setting="published",
        setting_note="the authors' 67 models, original validation set vs MatchedFrequency",
        rule=dict(
            kind="per_model_drop",
            stat="median",
            low=11.0,
            high=14.0,
            compares="figure",
            n=dict(original=50_000, new=10_000),
            why=(
                "two-sided: the median drop must lie in [11 - h, 14 + h], h the 95% sampling "
                "half-width of the median model's drop with 10,000 ImageNetV2 and 50,000 "
                "validation images at its accuracies (about 0.9 points at 75%). The spread over "
                "models is shown because the published range is over models."
            ),
        ),
    ),
    dict(
        id="cifar10_1_drop",
        notebook="01_accuracy_decomposition",
        claim="CIFAR-10 models lose accuracy on a new test set (CIFAR-10.1 v6)",
        published="3-15 %",
        source="Recht et al. 2019, abstract",
        cite="recht2018cifar",
        confirmed=True,
        reference="CIFAR-10 drop on a new test set",  # its row in published_figures.md
        keys=["cifar10_1.models.*.original", "cifar10_1.models.*.v6"],
        data=("CIFAR-10.1 v6 and canonical CIFAR-10 test predictions of 30 models (Recht et al. 2018)"),
        evidence="released data",
        setting="published",
        setting_note="the authors' 30 models, CIFAR-10 test vs CIFAR-10.1 v6",
        rule=dict(
            kind="per_model_drop",
            stat="range",
            low=3.0,
            high=15.0,
            compares="figure",
            n=dict(original=10_000, new=2_000),
            why=(
                "two-sided on both ends: the smallest and the largest per-model drop must each "
                "lie within h of 3 and 15 (the published figure is the range over models), h "
                "the 95% half-width of that model's drop with 2,000 CIFAR-10.1 and 10,000 "
                "CIFAR-10 test images at its accuracies (about 1.4 points at 90%)."
            ),
        ),
    ),
    dict(
        id="imagenetv2_per_set",
        notebook="01_accuracy_decomposition",
        claim=("MatchedFrequency is the hardest ImageNetV2 set; Threshold0.7 and TopImages drop much less"),
        published="MatchedFrequency drops most; Threshold0.7 and TopImages much less",
        source="Recht et al. 2019 (tables)",
        cite="recht2019imagenet",
        confirmed=False,
        reference="Per-test-set ImageNetV2 drops",  # its row in published_figures.md
        keys=[
            "imagenetv2_per_image.models.*.val",
            "imagenetv2_per_image.models.*.matched_frequency",
            "imagenetv2_per_image.models.*.threshold0.7",
            "imagenetv2_per_image.models.*.top_images",
        ],
        data="ImageNetV2 per-image top-5 predictions of 67 models (Recht et al. 2019)",
        evidence="released data",
        setting="published",
        setting_note="the authors' 67 models on all three ImageNetV2 sets",
        rule=dict(
            kind="per_set_order",
            table="imagenetv2_per_image.models",
            base="val",
            hardest="matched_frequency",
            others=["threshold0.7", "top_images"],
            compares="effect",
            n=10_000,
            factor=2.0,
            why=(
                "the median MatchedFrequency drop must exceed each other set's median drop by "
                "more than twice the 95% half-width of the difference of two accuracies on "
                '10,000 images each ("much less"; about 2.4 points at 75%).'
            ),
        ),
    ),
    dict(
        id="humans",
        notebook="03_humans_vs_models",
        claim="Humans label the original and the new test set about equally well",
        published="median labeler's drop < 1 % (best model: 5.4 %)",
        source="Shankar et al. 2020",
        cite="shankar2020evaluating",
        confirmed=True,
        reference="Humans vs models",  # its row in published_figures.md
        keys=[
            "humans.tost.passes_at_1",
            "humans.tost.margin_supported",
            "humans.tost.margin",
            "humans.best_model",
            "humans.best_model_drop",
        ],
        data=(
            "Shankar et al. 2020's printed results (generate_main_plots.ipynb): 5 labelers and "
            "the models, multi-label accuracy on 984 ImageNet val and 980 ImageNetV2 images"
        ),
        source_contains="Shankar et al. 2020",
        evidence="released data",
        setting="published",
        setting_note=(
            "the authors' own labelers and models, re-analysed from the printed "
            "accuracies (60 of the 80 table rows are visible); by the paper's account (quoted, "
            "unverified, in the chapter) three of the labelers built the multi-label ground "
            "truth all five are scored on"
        ),
        rule=dict(
            kind="tost_equivalence",
            table="humans.tost",
            margin=1.0,
            n="humans.mean_drop.labelers",
            best="humans.best_model",
            best_drop="humans.best_model_drop",
            compares="effect",
            why=(
                '"no drop" is an equivalence claim, judged by two one-sided tests (Schuirmann 1987) '
                "on each labeler's drop (val minus ImageNetV2, points) at a margin of ±1 point, the "
                'precision of the published "< 1": it passes when every labeler\'s 90% Newcombe '
                "interval (984 val and 980 ImageNetV2 images, two independent samples) lies inside "
                "±1. The smallest margin the data support is shown; so is the drop of the most "
                "accurate visible model, picked by its val accuracy in the printed table: the "
                "published 5.4 is not that model's drop."
            ),
        ),
    ),
    dict(
        id="engstrom_bias",
        notebook="02_rebuilding_a_test_set",
        claim="Matching on noisy selection frequencies makes a rebuilt test set look harder",
        published="gap 11.7 ± 1.0 % falls to 3.6 ± 1.5 % after correcting the bias",
        source="Engstrom et al. 2020, abstract",
        cite="engstrom2020identifying",
        confirmed=True,
        reference="Bias of MatchedFrequency from noisy selection frequencies",  # its row in published_figures.md
        keys=["cifar10h.engstrom.3.matched_drop", "cifar10h.engstrom.3.ci", "cifar10h.engstrom.all.matched_drop"],
        data="CIFAR-10H human labels (Peterson et al. 2019)",
        evidence="own run",
        setting="stand-in",
        setting_note="CIFAR-10H frequencies from k of ~51 annotators, not ImageNetV2's MTurk pool",
        own_data=(
            "no chapter has the paper's data: ImageNetV2's per-worker MTurk selection votes are not "
            "in shared/data (its release here holds the image lists and predictions); 02 measures the "
            "bias on CIFAR-10H's annotators instead"
        ),
        rule=dict(
            kind="engstrom",
            table="cifar10h.engstrom",
            ks=["3", "5", "10", "all"],
            tolerance=0.0,
            compares="effect",
            tolerance_source="design: a strict fall through four k (chance odds 1 in 24)",
            why=(
                "the mean apparent drop (over resamples) must fall strictly as the annotators per "
                "image grow through 3, 5, 10 and all, so the bias from 3 annotators is positive. "
                "A strict fall through four k by chance has odds 1 in 24 if there were no bias; "
                "the size (about a point on CIFAR-10H, not ten) is not compared with "
                "ImageNetV2's. The ci of a k is the spread of single rebuilt sets, shown, not tested."
            ),
        ),
    ),
    dict(
        id="model_similarity",
        notebook="01_accuracy_decomposition",
        claim="Models agree with each other far beyond what their accuracies imply",
        published='ImageNet models agree "well beyond" what accuracies imply',
        source="Mania et al. 2019",
        cite="mania2019model",
        confirmed=True,
        reference="Model similarity",  # its row in published_figures.md
        keys=["imagenetv2_agreement", "imagenetv2_independent_agreement"],
        data="ImageNetV2 per-image top-5 predictions of 67 models (Recht et al. 2019)",
        evidence="released data",
        setting="published",
        setting_note="the 67 ImageNet models' predictions on ImageNetV2",
        rule=dict(
            kind="excess",
            key="imagenetv2_agreement",
            baseline="imagenetv2_independent_agreement",
            tolerance=5.0,
            compares="effect",
            tolerance_source='design: "well beyond" read as 5 points, five times the sampling error',
            why=(
                "the mean pairwise agreement must exceed the agreement of independent errors at"
                ' the same accuracies by more than 5 points ("well beyond"; the sampling error '
                "of an agreement rate on 10,000 images is under 1 point)."
            ),
        ),
    ),
    dict(
        id="lost_mnist_digits",
        notebook="01_accuracy_decomposition",
        claim="A carefully matched rebuild of MNIST shows a small drop (the lost digits)",
        published="LeNet-5 error 0.82 % (MNIST test) vs 1.08 % (QMNIST lost digits), ± 0.1-0.2 %",
        source="QMNIST repository README (Yadav & Bottou 2019)",
        cite="yadav2019cold",
        confirmed=True,
        reference="Lost MNIST digits",  # its row in published_figures.md
        keys=["matched_drop", "matched_drop_ci"],
        data="MNIST + QMNIST writer metadata (Yadav & Bottou 2019)",
        evidence="own run",
        setting="stand-in",
        setting_note=(
            "a writer-matched rebuild from MNIST's own test digits and our zoo's "
            "reference model, not the 50,000 lost digits and LeNet-5"
        ),
        own_data=(
            "no chapter has the paper's data: the 50,000 lost QMNIST digits are not in shared/data "
            "(only QMNIST's labels and writer metadata), nor is LeNet-5; 01 rebuilds a writer-matched "
            "split from MNIST's own test digits"
        ),
        rule=dict(
            kind="ci_contains",
            key="matched_drop",
            ci="matched_drop_ci",
            target=0.26,
            null=0.0,
            compares="effect",
            tolerance_source="the run's 95% writer-cluster bootstrap interval",
            why=(
                "two-sided: the published drop (1.08 - 0.82 = 0.26 points) must lie inside our "
                "95% writer-cluster bootstrap interval for the matched drop, and 0 must not: an "
                "interval holding both cannot tell a small drop from none."
            ),
        ),
    ),
    dict(
        id="madry_mnist",
        notebook="04_adversarial_training",
        claim="PGD adversarial training on MNIST (eps = 0.3, L-inf)",
        published="88.0 % under the best attack (AutoAttack 88.4 %), clean 98.5 %",
        source="MadryLab/mnist_challenge README; auto-attack README",
        cite="madry2018towards",
        confirmed=True,
        reference="PGD adversarial training, MNIST",  # its row in published_figures.md
        keys=["clean_acc", "pgd_acc_on_autoattack_subset", "autoattack_n"],  # worst case: the rule's same_images
        data="MNIST",
        scope="mnist",  # 04's gpu run nests its MNIST figures under "mnist"
        source_contains="MNIST",  # a results file of another data set never counts
        evidence="own run",
        setting="stand-in",
        setting_note=(
            "not a reproduction; the network is the course's shared robust model, a small CNN without pooling "
            "(reliable_ml.robust.shared_model), not Madry et al.'s larger CNN with max-pooling and 1,024 hidden "
            "units; the training is PGD with a few steps for a few epochs, not PGD-40 for 100,000 iterations of 50 "
            "images; the images are a seeded random sample of the test split (autoattack_n), not all 10,000; the "
            "attacks are AutoAttack's standard suite plus APGD-DLR and PGD with restarts, not the best attack of "
            "their public challenge"
        ),
        rule=dict(
            kind="robust_worst_case",
            clean="clean_acc",
            same_images=[
                "autoattack_acc",
                "pgd_acc_on_autoattack_subset",
                "worst_case_acc_on_autoattack_subset",
                "worst_case_acc",
            ],
            n="autoattack_n",
            tables=["attack_acc"],
            clean_same="clean_acc_on_autoattack_subset",
            full_set=["robust_acc", "pgd_acc"],
            full_n="n_eval",
            target=88.0,
            tolerance=2.0,
            masking_gap=10.0,
            masking_flags="masking_flags",  # 04: the card's checks 2-4 and AutoAttack's Square check of the suite
            compares="figure",
            why=(
                "two-sided: the worst case over every attack run on the same images must lie "
                "within max(2, 95% binomial half-width at its n) points of 88.0. It fails when "
                "robust > clean or when PGD on the same images overstates the worst case by more "
                "than 10 points (gradient masking: PGD 99% with AutoAttack 10% must not pass; a "
                "weak attack such as FAB-T scoring high is no sign of masking), and whenever a "
                "masking check of the shared robust model raised a flag (a flagged figure is an "
                "upper bound, never a reproduction)."
            ),
        ),
    ),
    dict(
        id="madry_cifar",
        notebook="04_adversarial_training",
        claim="PGD adversarial training on CIFAR-10 (eps = 8/255, L-inf)",
        published="44.0 % under the best attack (AutoAttack 44.3 %), clean 87.1 % (WideResNet)",
        source="MadryLab/cifar10_challenge README; auto-attack README",
        cite="madry2018towards",
        confirmed=True,
        reference="PGD adversarial training, CIFAR-10",  # its row in published_figures.md
        profile="gpu",
        keys=["clean_acc", "autoattack_acc", "pgd_acc_on_autoattack_subset", "autoattack_n"],
        data="CIFAR-10 (JPEG q75 copy)",
        scope="cifar10",
        source_contains="CIFAR-10",  # a results file of another data set never counts
        evidence="own run",
        setting="stand-in",
        setting_note=_cifar_gpu_recipe() + ", not Madry et al.'s PGD-7 WideResNet",
        rule=dict(
            kind="robust_worst_case",
            clean="clean_acc",
            same_images=[
                "autoattack_acc",
                "pgd_acc_on_autoattack_subset",
                "worst_case_acc_on_autoattack_subset",
                "worst_case_acc",
            ],
            n="autoattack_n",
            tables=["attack_acc"],
            clean_same="clean_acc_on_autoattack_subset",
            full_set=["robust_acc", "pgd_acc"],
            full_n="n_eval",
            target=44.0,
            tolerance=3.0,
            masking_gap=10.0,
            compares="figure",
            why=(
                "two-sided: worst case over attacks on the same images within max(3, 95% "
                "half-width) points of 44.0 (3 points: seed-to-seed spread of adversarial "
                "training on CIFAR-10)."
            ),
        ),
    ),
    dict(
        id="fast_at",
        notebook="04_adversarial_training",
        claim="Fast (FGSM-RS) adversarial training matches PGD training on CIFAR-10",
        published="FGSM-RS: 86.1 % clean, 46.1 % robust (PGD-50-10), PreActResNet-18, 15 epochs",
        source="locuslab/fast_adversarial README (Wong, Rice, Kolter 2020)",
        cite="wong2020fast",
        confirmed=True,
        reference="Fast adversarial training",  # its row in published_figures.md
        profile="gpu",
        keys=["clean_acc", "robust_acc", "n_eval"],
        data="CIFAR-10 (JPEG q75 copy)",
        scope="cifar10",
        source_contains="CIFAR-10",  # a results file of another data set never counts
        evidence="own run",
        setting="published" if _CIFAR_GPU_METHOD == "fgsm_rs" else "stand-in",
        setting_note=_cifar_gpu_recipe() + ", eps = 8/255",
        **(
            {}
            if _CIFAR_GPU_METHOD == "fgsm_rs"
            else {
                "not_comparable": (
                    "the gpu run trains with PGD, not FGSM-RS, so it cannot reproduce Wong et al.'s FGSM-RS figures"
                )
            }
        ),
        rule=dict(
            kind="robust_worst_case",
            clean="clean_acc",
            same_images=["robust_acc"],
            n="n_eval",
            full_set=["autoattack_acc", "worst_case_acc_on_autoattack_subset", "worst_case_acc"],
            full_n="autoattack_n",
            target=46.1,
            clean_target=86.1,
            tolerance=2.0,
            masking_gap=10.0,
            compares="figure",
            why=(
                "two-sided: PGD robust accuracy within max(2, 95% half-width) points of 46.1 "
                "and clean accuracy within 2 points of 86.1 (2 points: seed-to-seed spread "
                "reported by Wong et al.)."
            ),
        ),
    ),
    dict(
        id="robust_overfitting",
        notebook="04_adversarial_training",
        claim="Robust overfitting: the best checkpoint beats the final one under attack",
        published="best 53.5 % vs final 45.6 % PGD-10 robust (PreActResNet-18, 200 epochs)",
        source="Rice, Wong, Kolter 2020, repository training log",
        cite="rice2020overfitting",
        confirmed=True,
        reference="Robust overfitting",  # its row in published_figures.md
        profile="gpu",
        keys=["history"],
        data="CIFAR-10 (JPEG q75 copy)",
        scope="cifar10",
        source_contains="CIFAR-10",  # a results file of another data set never counts
        evidence="own run",
        setting="stand-in",
        setting_note=("the fast-AT schedule of the gpu entry point, not 200 epochs of PGD-10 training"),
        rule=dict(
            kind="best_minus_final",
            key="history",
            field="val_robust_acc",
            target=7.9,
            compares="figure",
            n=1_000,
            why=(
                "two-sided: the best-minus-final validation robust accuracy (points) within the "
                "95% half-width of a difference of two accuracies on a validation split of "
                "1,000 images (about 4.4 points at 50%) of the published 53.5 - 45.6 = 7.9; "
                "7.9 - 4.4 > 0, so no gap cannot pass."
            ),
        ),
    ),
    dict(
        id="rst",
        notebook="06_robust_self_training",
        claim=("Robust self-training with pseudo-labelled unlabeled data beats labeled-only robust training"),
        published=("> 5 points over the prior state of the art; 62.5 % PGD robust on CIFAR-10 (500K extra images)"),
        source="Carmon et al. 2019",
        cite="carmon2019unlabeled",
        confirmed=True,
        reference="Robust self-training",  # its row in published_figures.md
        keys=["robust_acc_rst", "robust_acc_labeled_only", "n_eval"],
        data="MNIST",
        evidence="own run",
        setting="stand-in",
        setting_note=("MNIST, 1,000 labeled + 20,000 unlabeled digits, not CIFAR-10 with 500K images"),
        own_data=(
            "no chapter has the paper's data: the 500K pseudo-labelled 80M Tiny Images and a "
            "WRN-28-10 are out of reach; the paper's released model is judged on RobustBench in row "
            "rst_robustbench"
        ),
        rule=dict(
            kind="gain",
            better="robust_acc_rst",
            worse="robust_acc_labeled_only",
            n="n_eval",
            paired="rst_gain_paired_ci",
            compares="effect",
            why=(
                "both arms are attacked on the same test images, so the paired 95% interval of "
                "RST minus labeled-only must exclude 0 in every seed (without paired intervals: "
                "the gain must exceed the unpaired half-width, about 3 points at n = 1,000); the "
                "published +5 is not compared, the setting being a stand-in."
            ),
        ),
    ),
    dict(
        id="robust_needs_data_gaussian",
        notebook="05_robustness_needs_data",
        claim="Gaussian model: robust learning needs far more samples than standard learning",
        published="robust: on the order of eps^2 sqrt(d) / log d samples; standard: far fewer",
        source="Schmidt et al. 2018",
        cite="schmidt2018adversarially",
        confirmed=True,
        reference="Robust generalization needs more data",  # its row in published_figures.md
        keys=["closed_form_vs_bruteforce_max_se", "robust_samples_loglog_slope"],
        data="simulation: Gaussian model of Schmidt et al. (2018)",
        evidence="own run",
        setting="stand-in",
        setting_note=("a simulation of the averaged-mean learner (the upper-bound side of the theorem)"),
        own_data=(
            "the claim is a theorem on a Gaussian model, not a data set: 05 simulates that model "
            "(the averaged-mean learner), and the published figure is a rate, not a number to set "
            "against ours (the reference file asks for the paper's exact theorem to be checked)"
        ),
        rule=dict(
            kind="max_abs_z",
            key="closed_form_vs_bruteforce_max_se",
            context="robust_samples_loglog_slope",
            tolerance=3.0,
            compares="effect",
            tolerance_source="3 Monte Carlo standard errors (the run computes them from its draws)",
            why=(
                "the slope of samples vs d is fixed by the closed form the simulation "
                "implements, so it is shown, not checked. What can fail is the Monte Carlo: the"
                " brute-force robust errors must agree with the closed form within 3 standard "
                "errors at every (d, n)."
            ),
        ),
    ),
    dict(
        id="robust_needs_data_images",
        notebook="05_robustness_needs_data",
        claim="On images too, robust generalization needs more data than standard generalization",
        published="robust learning needs far more samples than standard learning",
        source="Schmidt et al. 2018",
        cite="schmidt2018adversarially",
        confirmed=True,
        reference="Robust generalization needs more data",  # its row in published_figures.md
        keys=["empirical_curve"],
        data="MNIST",
        evidence="own run",
        setting="stand-in",
        setting_note="a small CNN on MNIST subsets, eps = 0.1",
        own_data=(
            "no chapter has the paper's runs: Schmidt et al.'s CIFAR-10 training curves are not "
            "released here; 05 trains MNIST stand-ins, and RobustBench's released models are judged "
            "in row robust_needs_data_robustbench"
        ),
        rule=dict(
            kind="robust_gap",
            key="empirical_curve",
            compares="effect",
            n=500,
            factor=2.0,
            why=(
                "at the smallest training set, the adversarially trained model's robust "
                "train-test gap must exceed the standard model's clean train-test gap by more "
                "than twice the 95% half-width of that difference of gaps (four accuracies, each"
                " on the 500 images the cpu row attacks; a gpu run attacks more, so this is "
                "conservative there)."
            ),
        ),
    ),
    dict(
        id="nonrobust_mnist",
        notebook="10_nonrobust_features",
        claim=("Non-robust features generalize: a model trained only on mislabelled adversarial images beats chance"),
        published=("well above chance on the clean test set (Ilyas et al.: D_rand 63.3 %, D_det 43.7 % on CIFAR-10)"),
        source="Ilyas et al. 2019 (not verified against the paper here)",
        cite="ilyas2019adversarial",
        confirmed=False,
        reference=None,  # not in published_figures.md, so not confirmed
        keys=["nonrobust.mnist.d_det_test_acc", "nonrobust.mnist.d_rand_test_acc", "nonrobust.mnist.chance"],
        data="MNIST",
        evidence="own run",
        setting="stand-in",
        setting_note="MNIST with a small CNN, not CIFAR-10 with a ResNet-50",
        own_data=(
            "no chapter has the paper's data: Ilyas et al.'s D_det/D_rand sets are not in "
            "shared/data (10 builds MNIST ones with its own small CNN), and the reference file marks "
            "the figure not confirmed"
        ),
        rule=dict(
            kind="above_chance",
            prefix="nonrobust.mnist",
            compares="effect",
            n="nonrobust.mnist.n_test",
            why=(
                "the lower end of the 95% binomial interval of both D_det and D_rand test "
                "accuracies (on the run's n_test images) must exceed chance, so a model that "
                "learned nothing fails."
            ),
        ),
    ),
    dict(
        id="nonrobust_cifar10",
        notebook="10_nonrobust_features",
        claim="Non-robust features generalize on CIFAR-10 images",
        published="D_rand 63.3 %, D_det 43.7 % clean CIFAR-10 test accuracy",
        source="Ilyas et al. 2019 (not verified against the paper here)",
        cite="ilyas2019adversarial",
        confirmed=False,
        reference=None,  # not in published_figures.md, so not confirmed
        keys=["nonrobust.cifar10.d_det_test_acc", "nonrobust.cifar10.d_rand_test_acc", "nonrobust.cifar10.chance"],
        data="CIFAR-10 (JPEG q75 copy)",
        evidence="own run",
        setting="stand-in",
        setting_note="a CIFAR-10 subset and a small CNN in the cpu profile",
        own_data=(
            "no chapter has the paper's data: Ilyas et al.'s CIFAR-10 D_det/D_rand sets are not in "
            "shared/data (10 rebuilds them with its own small CNN), and the reference file marks the "
            "figure not confirmed"
        ),
        rule=dict(
            kind="above_chance",
            prefix="nonrobust.cifar10",
            compares="effect",
            n="nonrobust.cifar10.n_test",
            why=(
                "the lower end of the 95% binomial interval of both D_det and D_rand test "
                "accuracies (on the run's n_test images) must exceed chance (10%)."
            ),
        ),
    ),
    dict(
        id="backgrounds",
        notebook="07_backdoors_and_spurious_correlations",
        claim="Models rely on spurious cues such as the background",
        published="ResNet-50: 86.2 % Mixed-Same vs 78.9 % Mixed-Rand (BG-gap 7.3 %), ImageNet-9",
        source="MadryLab/backgrounds_challenge README (Xiao et al. 2020)",
        cite="xiao2020noise",
        confirmed=True,
        reference="Backgrounds",  # its row in published_figures.md
        keys=["backgrounds_table"],
        data="MNIST (a planted background cue)",
        evidence="own run",
        setting="stand-in",
        setting_note="a cue planted in MNIST backgrounds, not ImageNet-9",
        own_data=(
            "no chapter has the paper's data: ImageNet-9 and its Mixed-Same/Mixed-Rand images are not "
            "in shared/data; 07 builds a cue stand-in on MNIST"
        ),
        rule=dict(
            kind="bg_gap",
            key="backgrounds_table",
            same="mixed-same",
            rand="mixed-rand",
            compares="effect",
            n=10_000,
            why=(
                "the cue model's BG-gap (Mixed-Same minus Mixed-Rand) must exceed the 95% "
                "half-width of a difference of two accuracies on the 10,000 MNIST test images, "
                "while the control model's stays within its own (about 0.4 points at 98%); a "
                "control with a gap means the gap is not the cue's doing. The size is not "
                "compared with the published 7.3: the planted cue's strength is our design "
                "choice."
            ),
        ),
    ),
    dict(
        id="badnets",
        notebook="07_backdoors_and_spurious_correlations",
        claim="A backdoor works with a small poison rate, at no visible cost in clean accuracy",
        published="near-complete attack success with few poisoned images",
        source="Gu et al. 2017; Turner, Tsipras, Madry 2019",
        cite="gu2017badnets",
        confirmed=False,
        reference="BadNets / clean-label backdoors",  # its row in published_figures.md
        keys=["attack_success_by_poison_fraction", "clean_acc_by_poison_fraction"],
        data="MNIST",
        evidence="own run",
        setting="published",
        setting_note="MNIST with a 3x3 trigger, as in BadNets",
        own_data=(
            "the figure is not confirmed (the reference file marks it not confirmed), so the row "
            "stays qualitative although 07 poisons MNIST as Gu et al. did"
        ),
        rule=dict(
            kind="backdoor",
            success="attack_success_by_poison_fraction",
            clean="clean_acc_by_poison_fraction",
            max_fraction=0.01,
            min_success=90.0,
            compares="effect",
            n=10_000,
            why=(
                "some poison rate <= 1% must give >= 90% attack success with clean accuracy "
                "within the 95% half-width of a difference of two accuracies on the 10,000 "
                "MNIST test images (about 0.4 points at 98%) of the unpoisoned model."
            ),
        ),
    ),
    dict(
        id="multi_object",
        notebook="09_label_quality",
        claim="Many ImageNet validation images contain several valid objects",
        published="more than 20 % of images contain multiple valid objects",
        source="Tsipras et al. 2020",
        cite="tsipras2020imagenet",
        confirmed=True,
        reference="Multi-object ImageNet images",  # its row in published_figures.md
        keys=["real.multi_pct_of_nonempty", "real.empty_pct"],
        data="ImageNet ReaL labels (Beyer et al. 2020)",
        evidence="own run",
        setting="stand-in",
        setting_note=("ReaL multi-labels of all 50,000 validation images, not Tsipras et al.'s annotation"),
        not_comparable=(
            "ReaL counts images with several acceptable labels (Beyer et al.), "
            "Tsipras et al. count images with several objects: a different "
            "quantity, so the two shares are not set against each other"
        ),
        rule=dict(
            kind="at_least",
            compares="figure",
            tolerance_source="rounding only (the measure differs, so the row is not comparable)",
            key="real.multi_pct_of_nonempty",
            target=20.0,
            tolerance=1.0,
            label="of the images with a label have several ReaL labels",
            context={"images with no acceptable label": "real.empty_pct"},
            why=(
                'one-sided, because the published figure is itself a bound ("more than 20%"): '
                "ours must be at least 19%. ReaL counts images with several acceptable labels, "
                "Tsipras et al. images with several objects, so the two shares differ by "
                "definition as well as by data; the 1-point margin covers only rounding. Our own "
                "count on another group's labels (Beyer et al.), so at best qualitative."
            ),
        ),
    ),
    dict(
        id="real_labels",
        notebook="09_label_quality",
        claim=("Progress on the original labels overstates progress on the reassessed (ReaL) labels"),
        published="for recent models, gains on the original labels exceed gains on ReaL",
        source="Beyer et al. 2020",
        cite="beyer2020are",
        confirmed=False,
        reference="Reassessed (ReaL) labels",  # its row in published_figures.md
        keys=["real.models.*.top1", "real.models.*.real"],
        data="ImageNet ReaL labels (Beyer et al. 2020)",
        evidence="released data",
        setting="published",
        setting_note="the 67 ImageNetV2 models' validation predictions, scored on ReaL",
        rule=dict(
            kind="real_slope",
            top=0.5,
            tolerance=0.0,
            compares="effect",
            tolerance_source="a 95% bootstrap interval over models (2,000 resamples)",
            why=(
                "among the better half of the models (by original top-1), the least-squares "
                "slope of ReaL accuracy on original accuracy must be below 1 with its 95% "
                "bootstrap interval (over models, 2,000 resamples) entirely below 1."
            ),
        ),
    ),
    dict(
        id="label_errors_mnist",
        notebook="09_label_quality",
        claim="Confirmed label errors in the MNIST test set",
        published="15 (0.15 %)",
        source="Northcutt et al. 2021, recounted from the released mturk/*.json",
        cite="northcutt2021pervasive",
        confirmed=True,
        reference="Label errors in test sets",  # its row in published_figures.md
        keys=["label_errors.mnist.confirmed"],
        data="MTurk reviews of the MNIST test set (Northcutt et al. 2021)",
        evidence="released data",
        setting="published",
        setting_note=("the released MTurk reviews with the paper's rule (fewer than 3 of 5 chose the given label)"),
        rule=dict(
            kind="near",
            key="label_errors.mnist.confirmed",
            target=15,
            tolerance=0,
            compares="figure",
            tolerance_source="exact recount",
            unit="confirmed errors",
            why="exact: a deterministic recount of released reviews with the paper's rule.",
        ),
    ),
    dict(
        id="label_errors_cifar10",
        notebook="09_label_quality",
        claim="Confirmed label errors in the CIFAR-10 test set",
        published="54 (0.54 %)",
        source="Northcutt et al. 2021, recounted from the released mturk/*.json",
        cite="northcutt2021pervasive",
        confirmed=True,
        reference="Label errors in test sets",  # its row in published_figures.md
        keys=["label_errors.cifar10.confirmed"],
        data="MTurk reviews of the CIFAR-10 test set (Northcutt et al. 2021)",
        evidence="released data",
        setting="published",
        setting_note="the released MTurk reviews with the paper's rule",
        rule=dict(
            kind="near",
            key="label_errors.cifar10.confirmed",
            target=54,
            tolerance=0,
            compares="figure",
            tolerance_source="exact recount",
            unit="confirmed errors",
            why="exact: a deterministic recount of released reviews with the paper's rule.",
        ),
    ),
    dict(
        id="label_errors_imagenet",
        notebook="09_label_quality",
        claim="Confirmed label errors in the ImageNet validation set",
        published="2,916 (5.83 %)",
        source="Northcutt et al. 2021, recounted from the released mturk/*.json",
        cite="northcutt2021pervasive",
        confirmed=True,
        reference="Label errors in test sets",  # its row in published_figures.md
        keys=["label_errors.imagenet.confirmed"],
        data="MTurk reviews of the ImageNet validation set (Northcutt et al. 2021)",
        evidence="released data",
        setting="published",
        setting_note="the released MTurk reviews with the paper's rule",
        rule=dict(
            kind="near",
            key="label_errors.imagenet.confirmed",
            target=2916,
            tolerance=0,
            compares="figure",
            tolerance_source="exact recount",
            unit="confirmed errors",
            why="exact: a deterministic recount of released reviews with the paper's rule.",
        ),
    ),
    dict(
        id="cleanlab",
        notebook="09_label_quality",
        claim=(
            "Applying the authors' released confident-learning settings to their released "
            "out-of-sample probabilities regenerates CIFAR-10's 275 reviewed candidates exactly; "
            "on MNIST it gives 87 flags, all among the 100 reviewed, holding all 15 confirmed errors"
        ),
        published=(
            "confirmed errors among confident learning's flags: MNIST 15, CIFAR-10 54 (the paper's "
            "run flagged 100 and 275 = the released reviews' rows; not checked against Table 1)"
        ),
        source="Northcutt et al. 2021, per-data-set counts, recounted from the released mturk/*.json",
        cite="northcutt2021pervasive",
        confirmed=True,
        reference="Label errors in test sets",  # its row in published_figures.md
        keys=[
            "cleanlab.mnist-authors.hits",
            "cleanlab.mnist-authors.n_flagged",
            "cleanlab.mnist-authors.n_flagged_reviewed",
            "cleanlab.cifar10-authors.hits",
            "cleanlab.cifar10-authors.n_flagged",
            "cleanlab.cifar10-authors.n_flagged_reviewed",
            "label_errors.mnist.flagged",
            "label_errors.cifar10.flagged",
        ],
        data=(
            "the cross-validated predicted probabilities and MTurk reviews released with the "
            "MNIST and CIFAR-10 test sets (Northcutt et al. 2021)"
        ),
        evidence="released data",
        setting="published",
        setting_note=(
            "the authors' own out-of-sample probabilities through their released protocol "
            "(label-errors repository, get_label_error_indices_to_match_labelerrors_com): "
            "uncalibrated confident joint, error count by prune_by_class (MNIST) or "
            "num_label_errors (CIFAR-10), flags ranked by normalized margin; run with cleanlab 2.9"
        ),
        rule=dict(
            kind="recovered_count",
            entries={"mnist": "cleanlab.mnist-authors", "cifar10": "cleanlab.cifar10-authors"},
            published={"mnist": 15, "cifar10": 54},
            paper_flagged={"mnist": "label_errors.mnist.flagged", "cifar10": "label_errors.cifar10.flagged"},
            compares="figure",
            tolerance_source="exact recount of released votes: no sampling error",
            why=(
                "a re-run of the paper's pipeline, not a test of confident learning's precision "
                "(these probabilities chose the reviewed examples). Only reviewed examples can be "
                "confirmed, so a flag nobody reviewed is none of the paper's confirmed errors: the "
                "re-run recovers exactly the confirmed errors among its flags, and the row agrees "
                "when that is every published one on both data sets. Unreviewed flags are shown "
                "apart as possible further errors. Exact given the released votes; today's default "
                "filter (prune_by_noise_rate) and the course MLP's flags are shown in the chapter, "
                "not judged here."
            ),
        ),
    ),
    dict(
        id="effective_robustness",
        notebook="08_effective_robustness",
        claim="Robustness interventions sit on the line; more training data lifts models off it",
        published="interventions: little effective robustness on natural shifts; more data: some",
        source="Taori et al. 2020",
        cite="taori2020measuring",
        confirmed=False,
        reference=None,  # not in published_figures.md, so not confirmed
        keys=[
            "effective_robustness_by_group_median.robustness intervention",
            "effective_robustness_by_group_median.more data",
        ],
        data="ImageNet testbed robustness_top1s.csv (Taori et al. 2020)",
        evidence="released data",
        setting="published",
        setting_note="the testbed's models on its natural shifts (median over shifts)",
        rule=dict(
            kind="effective_robustness",
            small="effective_robustness_by_group_median.robustness intervention",
            large="effective_robustness_by_group_median.more data",
            per_shift="effective_robustness_by_group_per_shift",
            tolerance=2.0,
            compares="effect",
            tolerance_source="the bootstrap spread of a group's median effective robustness",
            why=(
                "the interventions' median effective robustness must lie within ±2 points of 0 "
                "and more data's must exceed it by more than 2 points (2 points: the bootstrap "
                "spread of a group's effective robustness). Per-shift extremes are shown: more "
                "data's lift is far from uniform."
            ),
        ),
    ),
    dict(
        id="qa_shift",
        notebook="08_effective_robustness",
        claim="Question-answering models lose F1 under natural distribution shift",
        published="F1 drops of 3.8 (NYT), 14.0 (Reddit), 17.4 (Amazon) points",
        source="Miller, Krauth, Recht, Schmidt 2020, abstract",
        cite="miller2020effect",
        confirmed=True,
        reference="Natural shift in question answering",  # its row in published_figures.md
        keys=[
            "squadshifts.mean_f1_drop.models.nyt",
            "squadshifts.mean_f1_drop.models.reddit",
            "squadshifts.mean_f1_drop.models.amazon",
            "squadshifts.n_models",
        ],
        data="SQuADShifts results.json: F1 of 95 SQuAD v1.1 models and 3 humans (Miller et al. 2020)",
        evidence="released data",
        setting="published",
        setting_note=(
            "the released table's 95 models (the paper's averages are over its own model "
            "set), mean F1 drop from the SQuAD test set"
        ),
        rule=dict(
            kind="near_each",
            compares="figure",
            tolerance_source=(
                "the 95% sampling half-width of a mean F1 drop between two test sets of about 10,000 questions "
                "(see why)"
            ),
            values={
                "squadshifts.mean_f1_drop.models.nyt": 3.8,
                "squadshifts.mean_f1_drop.models.reddit": 14.0,
                "squadshifts.mean_f1_drop.models.amazon": 17.4,
            },
            tolerance=1.0,
            why=(
                "two-sided: each mean F1 drop within 1.0 point of the published one. 1.0 point "
                "is the 95% sampling half-width of a drop between two test sets of about 10,000 "
                "questions each when per-question F1 has a standard deviation of about 0.35: "
                "1.96 * sqrt(2) * 35 / sqrt(10,000)."
            ),
        ),
    ),
    dict(
        id="madry_cifar_robustbench",
        notebook="05_robustness_needs_data",
        claim=("PGD adversarial training on CIFAR-10 (eps = 8/255, L-inf): the published model under AutoAttack"),
        published="44.0 % under the best attack (AutoAttack 44.3 %), clean 87.1 % (WideResNet)",
        source="MadryLab/cifar10_challenge README; auto-attack README",
        cite="madry2018towards",
        confirmed=True,
        reference="PGD adversarial training, CIFAR-10",  # its row in published_figures.md
        keys=["robustbench.models.Madry2018Towards.autoattack", "robustbench.models.Madry2018Towards.clean"],
        data="RobustBench model_info, CIFAR-10 L-inf (Croce et al. 2021)",
        evidence="released data",
        setting="published",
        setting_note=(
            "RobustBench's AutoAttack evaluation of Madry et al.'s released WideResNet "
            "(read from the leaderboard, not re-attacked here)"
        ),
        rule=dict(
            kind="near_n",
            compares="figure",
            key="robustbench.models.Madry2018Towards.autoattack",
            target=44.0,
            n=10000,
            tolerance=1.0,
            why=(
                "two-sided: AutoAttack accuracy within max(1, 95% binomial half-width on the "
                "10,000 CIFAR-10 test images, about 1.0) points of 44.0."
            ),
        ),
    ),
    dict(
        id="fast_at_robustbench",
        notebook="05_robustness_needs_data",
        claim="Fast (FGSM-RS) adversarial training matches PGD training on CIFAR-10, under AutoAttack",
        published="FGSM-RS: 86.1 % clean, 46.1 % robust (PGD-50-10); PGD-7 45.8 %",
        source="locuslab/fast_adversarial README (Wong, Rice, Kolter 2020)",
        cite="wong2020fast",
        confirmed=True,
        reference="Fast adversarial training",  # its row in published_figures.md
        keys=["robustbench.models.Wong2020Fast.autoattack", "robustbench.models.Madry2018Towards.autoattack"],
        data="RobustBench model_info, CIFAR-10 L-inf (Croce et al. 2021)",
        evidence="released data",
        setting="published",
        setting_note=(
            "Wong et al.'s released PreActResNet-18 against Madry et al.'s PGD-trained "
            "WideResNet-34-10 (RobustBench has no PGD-7 PreActResNet-18), both under "
            "AutoAttack"
        ),
        rule=dict(
            kind="near_n",
            compares="figure",
            key="robustbench.models.Wong2020Fast.autoattack",
            target_key="robustbench.models.Madry2018Towards.autoattack",
            n=10000,
            tolerance=1.0,
            why=(
                'two-sided: "matches" means the two AutoAttack accuracies differ by less than '
                "the 95% half-width of a difference of two accuracies on 10,000 test images "
                "(unpaired, about 1.4 points; at least 1)."
            ),
        ),
    ),
    dict(
        id="rst_robustbench",
        notebook="05_robustness_needs_data",
        claim="Unlabeled data improves adversarial robustness: RST beats TRADES by over 5 points",
        published=(
            '"over 5 points" above the prior state of the art; RobustBench: Carmon2019Unlabeled '
            "59.53 % vs TRADES 53.08 % AutoAttack"
        ),
        source="Carmon et al. 2019 (abstract); RobustBench model_info",
        cite="carmon2019unlabeled",
        confirmed=True,
        reference="Unlabeled data improves adversarial robustness",  # its row in published_figures.md
        keys=[
            "robustbench.models.Carmon2019Unlabeled.autoattack",
            "robustbench.models.Zhang2019Theoretically.autoattack",
            "robustbench.carmon_minus_trades_aa",
        ],
        data="RobustBench model_info, CIFAR-10 L-inf (Croce et al. 2021)",
        evidence="released data",
        setting="published",
        setting_note=(
            "the papers' released models under AutoAttack (TRADES was evaluated at eps = "
            "0.031, slightly below 8/255, which if anything favours it)"
        ),
        rule=dict(
            kind="near_n",
            compares="effect",
            key="robustbench.models.Carmon2019Unlabeled.autoattack",
            target_key="robustbench.models.Zhang2019Theoretically.autoattack",
            minus=5.0,
            side="at_least",
            n=10000,
            tolerance=1.0,
            why=(
                'one-sided, as the claim is "over 5 points": RST minus TRADES must not fall short '
                "of 5 points by more than the 95% half-width of a difference of two accuracies on "
                "10,000 test images (unpaired, about 1.4 points)."
            ),
        ),
    ),
    dict(
        id="robust_needs_data_robustbench",
        notebook="05_robustness_needs_data",
        claim="Among published CIFAR-10 models, those trained on more data are more robust",
        published="robust learning needs far more samples than standard learning",
        source="Schmidt et al. 2018",
        cite="schmidt2018adversarially",
        confirmed=True,
        reference="Robust generalization needs more data",  # its row in published_figures.md
        keys=[
            "robustbench.mannwhitney_p_vs_cifar10_only.generated data",
            "robustbench.mannwhitney_p_vs_cifar10_only.real extra data",
            "robustbench.median_aa_by_group",
        ],
        data="RobustBench model_info, CIFAR-10 L-inf (Croce et al. 2021)",
        evidence="released data",
        setting="stand-in",
        setting_note=(
            "a leaderboard comparison: the data groups differ in more than data (year, "
            "architecture, training), so it is evidence of association, not of cause"
        ),
        rule=dict(
            kind="p_below",
            compares="effect",
            tolerance_source="rank tests at level alpha over the models (no tolerance)",
            keys=[
                "robustbench.mannwhitney_p_vs_cifar10_only.generated data",
                "robustbench.mannwhitney_p_vs_cifar10_only.real extra data",
            ],
            labels=["generated vs CIFAR-10 only", "real extra vs CIFAR-10 only"],
            alpha=0.05,
            context={
                "median AutoAttack, CIFAR-10 only": "robustbench.median_aa_by_group.CIFAR-10 only",
                "generated": "robustbench.median_aa_by_group.generated data",
                "real extra": "robustbench.median_aa_by_group.real extra data",
            },
            why=(
                "both one-sided Mann-Whitney tests of AutoAttack accuracy (extra-data group "
                "greater than CIFAR-10 only) must reject at the 5% level over the ~100 models."
            ),
        ),
    ),
    dict(
        id="zero_shot_clip",
        notebook="08_effective_robustness",
        claim="Zero-shot CLIP models are effectively robust on natural shifts",
        published=(
            'zero-shot CLIP models sit above the "accuracy on the line" of ImageNet-trained models on natural shifts'
        ),
        source="Radford et al. 2021 (CLIP, section 3.3); OpenCLIP results table",
        cite="radford2021learning",
        confirmed=False,
        reference="Zero-shot CLIP is effectively robust",  # its row in published_figures.md
        keys=["open_clip.effective_robustness", "open_clip.n_models"],
        data="OpenCLIP openclip_results.csv zero-shot accuracies against the ImageNet testbed",
        evidence="released data",
        setting="published",
        setting_note=(
            "OpenCLIP's zero-shot models against the testbed's line over standard "
            "ImageNet models at or above the course's floor (line.MIN_ACCURACY), x = ImageNet val "
            "on all 1,000 classes; the line through every standard model is the chapter's aside"
        ),
        rule=dict(
            kind="ci_above",
            compares="effect",
            tolerance_source="bootstrap intervals over models (refitting the line)",
            table="open_clip.effective_robustness",
            threshold=0.0,
            why=(
                "the 95% bootstrap interval (models only: standard and zero-shot models; the test "
                "images not resampled, the tables hold accuracies only) of the median zero-shot "
                "model's effective robustness must lie above 0 on every shift."
            ),
        ),
    ),
    dict(
        id="spatial_brittleness",
        notebook="11_spatial_and_physical_robustness",
        claim=("Small rotations and translations alone break standard models (no pixel budget, no gradients)"),
        published=(
            "standard models lose most of their accuracy to the worst of a grid of "
            "rotations (±30°) and translations (±3 px)"
        ),
        source="Engstrom, Tran, Tsipras, Schmidt, Madry 2019 (not verified against the paper here)",
        cite="engstrom2019exploring",
        confirmed=False,
        reference=None,  # not in published_figures.md, so not confirmed
        keys=[
            "spatial.clean.standard",
            "spatial.grid.standard",
            "spatial.grid.linf_robust",
            "spatial.grid.spatial_trained",
            "spatial.n_eval",
        ],
        data="MNIST",
        source_contains="MNIST",  # not the digits fallback, nor a CIFAR-10-only entry-point run
        evidence="own run",
        setting="stand-in",
        setting_note=(
            "narrower pooling CNNs of Madry et al.'s MNIST shape, trained on 10,000 MNIST images, with a coarser "
            "grid than the paper (cpu: 175 points, not 775)"
        ),
        own_data=(
            "no chapter has the paper's data or models: 11 trains small MNIST CNNs, and the figure is "
            "not in the reference file"
        ),
        rule=dict(
            kind="gain",
            compares="effect",
            better="spatial.clean.standard",
            worse="spatial.grid.standard",
            n="spatial.n_eval",
            why=(
                "the standard models' clean accuracy must exceed their accuracy under the worst "
                "point of the grid (means over seeds, on the same test images) by more than the "
                "unpaired 95% half-width of the difference on n_eval images (conservative: the "
                "grid contains the identity, so the pairing could only tighten it). The L-inf-"
                "robust and the spatially trained models are shown by the chapter, not judged."
            ),
        ),
    ),
    dict(
        id="eot_survival",
        notebook="11_spatial_and_physical_robustness",
        claim=(
            "Expectation over Transformation makes adversarial perturbations that survive random "
            "transformations more often than plain PGD"
        ),
        published=(
            "EOT examples stay adversarial under random rotations, zooms, lighting and noise "
            "(and as 3D-printed objects); plain adversarial examples often do not"
        ),
        source="Athalye, Engstrom, Ilyas, Kwok 2018 (not verified against the paper here)",
        cite="athalye2018synthesizing",
        confirmed=False,
        reference=None,  # not in published_figures.md, so not confirmed
        keys=["eot.eot_survival", "eot.plain_pgd_survival", "eot.n_images", "eot.n_draws"],
        data="MNIST",
        source_contains="MNIST",  # not the digits fallback, nor a CIFAR-10-only entry-point run
        evidence="own run",
        setting="stand-in",
        setting_note=(
            "targeted L-inf perturbations (eps 0.3) of a small MNIST CNN under a mild "
            "distribution, not ImageNet images or printed objects"
        ),
        own_data=(
            "no chapter has the paper's data: no ImageNet images, 3D-printed objects or released "
            "adversarial examples here; 11 attacks a small MNIST CNN, and the figure is not in the "
            "reference file"
        ),
        rule=dict(
            kind="gain",
            compares="effect",
            better="eot.eot_survival",
            worse="eot.plain_pgd_survival",
            n="eot.n_images",
            paired="eot.paired_diff",
            why=(
                "survival = the share of fresh random transformations (drawn independently of the "
                "attack's) on which the model still predicts the target, averaged over images; "
                "EOT's must exceed plain PGD's with the paired 95% bootstrap interval of the "
                "per-image difference (images resampled, since draws of one image are not "
                "independent) entirely above 0; without it, by more than the unpaired half-width "
                "on n_images images."
            ),
        ),
    ),
    dict(
        id="kaggle_medical_reuse",
        notebook="01_accuracy_decomposition",
        claim=(
            "The submissions a public leaderboard selects do not fall below the field's public-to-private "
            "relation (medical Kaggle competitions)"
        ),
        published=("little evidence of substantial overfitting (over one hundred Kaggle competitions)"),
        source="Roelofs et al. 2019; the boards saved by Varoquaux & Cheplygina 2022",
        cite="roelofs2019meta",
        confirmed=True,
        reference="Kaggle adaptive overfitting",  # its row in published_figures.md
        keys=[
            "kaggle.roelofs_test.pooled.all.mean_z",
            "kaggle.roelofs_test.pooled.all.ci",
            "kaggle.roelofs_test.pooled.upper_half.ci",
        ],
        data="public and private leaderboards of medical-imaging Kaggle competitions (Varoquaux & Cheplygina 2022)",
        source_contains="Kaggle",
        evidence="released data",
        setting="stand-in",
        setting_note=(
            "the one-stage boards among 13 medical-imaging competitions (two-stage ones left out), one "
            "score per team, not Roelofs et al.'s 112 competitions with every submission"
        ),
        not_comparable=(
            "a few medical competitions with their own metrics and one score per team; Roelofs et al. "
            "scored every submission of over one hundred competitions"
        ),
        rule=dict(
            kind="ci_not_below",
            compares="effect",
            tolerance_source="the run's own 95% bootstrap interval over teams (no fixed tolerance)",
            key="kaggle.roelofs_test.pooled.all.mean_z",
            ci="kaggle.roelofs_test.pooled.all.ci",
            threshold=0.0,
            context={"line through the upper half (post hoc, not judged)": "kaggle.roelofs_test.pooled.upper_half.ci"},
            unit="field residual sd",
            why=(
                "adaptive overfitting of the public boards would put the publicly selected teams "
                "(the top tenth by public score) below the least-squares line of private on public "
                "score that the field follows; the claim fails when the pooled 95% interval over the "
                "one-stage boards (bootstrap over teams) lies entirely below 0. Judged on the line "
                "through all teams, the test as stated before any result was seen (after Roelofs et "
                "al.); the line through the upper half of each field was added after the all-team "
                "result was seen, so it is shown beside it and does not decide the row."
            ),
        ),
    ),
]
