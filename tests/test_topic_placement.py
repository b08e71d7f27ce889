"""Lesson 07 (where to put BN): the placement and Dropout studies, the "your turn" feedback,
the figures, and the explorers (placements seed by seed, the Dropout-before-BN variance shift)."""

from __future__ import annotations

import itertools

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from bncourse.claims import STRICT_ENV, ClaimFailed  # noqa: E402
from bncourse.lab import experiments as ex  # noqa: E402
from bncourse.lab.training import MLP, Run, Trainer  # noqa: E402
from bncourse.topics import placement  # noqa: E402

ALLOWED_BLOCKS = [
    block
    for size in (2, 3)
    for block in itertools.permutations(("bn", "act", "dropout"), size)
    if "bn" in block and "act" in block
]


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def fake_runs(level: float, seeds: int = 3) -> list[Run]:
    steps = np.array([50, 100, 150])
    return [
        Run(steps, np.array([1.0, 0.5, 0.2]), np.ones(3), level + 0.01 * s + np.zeros(3), False)
        for s in range(seeds)
    ]


def fake_study(first_ratio: float, later: tuple[float, ...] = (0.9, 0.95)) -> ex.ShiftStudy:
    ratio = np.array([[first_ratio, *later]])
    layers = tuple(f"bn_{i}" for i in range(1, ratio.shape[1] + 1))
    return ex.ShiftStudy(fake_runs(0.9, seeds=1), layers, ratio, np.array([0.9]))


def overlapping_texts(figure) -> list[tuple[str, str]]:
    """Pairs of visible texts (titles, axis labels, legends' entries, annotations) whose
    drawn boxes overlap."""
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    boxes = []
    for ax in figure.axes:
        texts = [ax.title, ax.xaxis.label, ax.yaxis.label, *ax.texts]
        legend = ax.get_legend()
        if legend is not None:
            texts += legend.get_texts()
        boxes += [(t.get_text(), t.get_window_extent(renderer)) for t in texts if t.get_text()]
    return [
        (a, b)
        for (a, box_a), (b, box_b) in itertools.combinations(boxes, 2)
        if box_a.overlaps(box_b)
    ]


# ----------------------------------------------------------------------------- the formula


@pytest.mark.parametrize("rate, mean", [(0.5, 0.0), (0.2, 0.0), (0.5, 1.5), (0.0, 1.0)])
def test_dropout_variance_matches_the_formula(rate, mean):
    training, inference = placement.dropout_variance(rate, mean, n=200_000)
    keep = 1 - rate
    assert training.mean() == pytest.approx(mean, abs=0.02)  # inverted Dropout keeps the mean
    assert inference.var() == pytest.approx(1.0, rel=0.02)
    assert training.var() == pytest.approx((mean**2 + 1) / keep - mean**2, rel=0.03)


def test_dropout_variance_rejects_a_rate_of_one():
    with pytest.raises(ValueError, match="rate"):
        placement.dropout_variance(1.0, 0.0)


# ----------------------------------------------------------------------------- your turn


@pytest.mark.parametrize("block", ALLOWED_BLOCKS)
def test_dropout_reaches_the_first_bn_exactly_when_it_comes_before_bn_in_the_block(block):
    expected = "dropout" in block and block.index("dropout") < block.index("bn")
    assert placement.dropout_reaches_first_bn(block) is expected
    assert placement.block_problem(block, 0.5) == ""


@pytest.mark.parametrize(
    "block, rate, problem",
    [
        (("bn", "relu"), 0.5, "not a part"),
        (("bn", "act", "bn"), 0.5, "at most once"),
        (("act", "dropout"), 0.5, "both 'bn' and 'act'"),
        (("bn", "dropout"), 0.5, "both 'bn' and 'act'"),
        (("bn", "act", "dropout"), 1.0, "rate"),
        (("bn", "act", "dropout"), -0.1, "rate"),
    ],
)
def test_block_problem_names_what_the_study_cannot_use(block, rate, problem):
    assert problem in placement.block_problem(block, rate)


def test_try_block_answers_a_block_it_cannot_use_with_a_sentence(capsys):
    assert placement.try_block(block=("act", "dropout"), rate=0.5, data=None, seed=0) is None
    assert "Choose another block" in capsys.readouterr().out


@pytest.mark.parametrize(
    "block, rate, first, holds",
    [
        (("dropout", "bn", "act"), 0.5, 0.45, True),  # Dropout feeds BN: ratio <= keep
        (("act", "dropout", "bn"), 0.5, 0.25, True),  # a mean away from 0 lowers it
        (("dropout", "act", "bn"), 0.1, 0.95, True),  # within the margin above keep = 0.9
        (("dropout", "bn", "act"), 0.5, 0.75, False),  # above keep + margin
        (("bn", "act", "dropout"), 0.5, 1.1, True),  # no Dropout before bn_1: near 1
        (("act", "bn"), 0.5, 0.95, True),
        (("bn", "dropout", "act"), 0.5, 0.5, False),  # no Dropout before bn_1, yet far from 1
    ],
)
def test_check_block_prediction_claims_what_the_formula_says_for_the_first_bn_layer(
    monkeypatch, capsys, block, rate, first, holds
):
    monkeypatch.setenv(STRICT_ENV, "1")
    study = fake_study(first)
    if holds:
        placement.check_block_prediction(study, block=block, rate=rate)
        out = capsys.readouterr().out
        assert out.startswith("✔")
    else:
        with pytest.raises(ClaimFailed):
            placement.check_block_prediction(study, block=block, rate=rate)
        out = capsys.readouterr().out
        assert out.startswith("✘") and "seed" in out
    assert ("keep probability" in out) is placement.dropout_reaches_first_bn(block)
    if holds:  # under the tests a failed claim raises before the note on later layers
        assert ("Later BN layers" in out) is ("dropout" in block)


def test_the_margins_cover_the_lessons_own_table():
    # the section 4 table's Dense -> Dropout -> BN -> ReLU later layers reach about 0.64 and
    # the formula does not bound them: the feedback must not judge them
    study = fake_study(0.44, later=(0.42, 0.64))
    placement.check_block_prediction(study, block=("dropout", "bn", "act"), rate=0.5)
    assert placement.DROPOUT_FED_MARGIN < placement.NO_DROPOUT_MARGIN < 0.5


# ----------------------------------------------------------------------------- shapes


def test_input_shape_tells_a_relu_output_from_a_dense_output():
    rng = np.random.default_rng(0)
    dense = rng.normal(size=(5000, 8))
    zeros, skew = placement.input_shape(dense)
    assert zeros == 0.0 and abs(skew) < 0.1
    zeros, skew = placement.input_shape(np.maximum(dense, 0.0))
    assert zeros == pytest.approx(0.5, abs=0.02) and skew > 0.8


def test_plot_bn_inputs_draws_one_labeled_panel_per_placement_within_nine_inches():
    rng = np.random.default_rng(0)
    seen = {"Dense → BN → ReLU": rng.normal(size=(200, 4))}
    seen["Dense → ReLU → BN"] = np.maximum(seen["Dense → BN → ReLU"], 0)
    figure = placement.plot_bn_inputs(seen, layer="bn_2", colors={"Dense → ReLU → BN": "#000000"})
    assert figure.get_figwidth() <= 9
    titles = [ax.get_title() for ax in figure.axes]
    assert titles == ["Dense → BN → ReLU: input of bn_2", "Dense → ReLU → BN: input of bn_2"]
    assert figure.axes[1].patches[0].get_facecolor()[:3] == (0.0, 0.0, 0.0)
    assert not overlapping_texts(figure)


# ----------------------------------------------------------------------------- explorers


def test_curves_explorer_draws_the_two_chosen_variants_and_redraws():
    results = {"BN → ReLU": fake_runs(0.9), "ReLU → BN": fake_runs(0.8), "plain": fake_runs(0.7)}
    view = placement.curves_explorer(results)
    assert view.static_png.startswith(b"\x89PNG")
    figure = view.draw(**view.values)
    labels = [line.get_label() for line in figure.axes[0].get_lines()]
    assert labels == ["BN → ReLU (mean of 3)", "ReLU → BN (mean of 3)"]
    figure = view.draw(first="plain", second="plain", metric="training loss", each_seed=True)
    assert len(figure.axes[0].get_lines()) == 4  # three seeds and one legend entry
    assert "training loss" in figure.axes[0].get_title()
    view.controls["second"].value = "plain"  # a widget change redraws without error
    view.controls["metric"].value = "training accuracy"


def test_curves_explorer_needs_two_variants():
    with pytest.raises(ValueError, match="two variants"):
        placement.curves_explorer({"only": fake_runs(0.9)})


def legend_variance(ax) -> float:
    label = ax.get_legend().get_texts()[0].get_text()
    return float(label.rsplit(" ", 1)[-1])


def test_variance_shift_explorer_reports_the_shrunken_inference_output():
    view = placement.variance_shift_explorer()
    figure = view.draw(rate=0.5, mean=0.0)
    # zero-mean unit, keep probability 0.5: training variance 2, inference output about 0.5
    assert legend_variance(figure.axes[0]) == pytest.approx(2.0, rel=0.05)
    assert legend_variance(figure.axes[1]) == pytest.approx(0.5, abs=0.03)
    no_dropout = view.draw(rate=0.0, mean=0.0)
    assert legend_variance(no_dropout.axes[1]) == pytest.approx(1.0, abs=0.01)


@pytest.mark.parametrize(
    "rate, mean", [(0.0, 0.0), (0.1, 1.25), (0.6, 0.0), (0.6, 2.0), (0.8, 0.75), (0.8, 2.0)]
)
def test_variance_shift_figure_has_no_colliding_text_at_any_slider_value(rate, mean):
    figure = placement.draw_variance_shift(rate, mean)
    assert figure.get_figwidth() <= 9
    assert not overlapping_texts(figure)
    notes = [t.get_text() for t in figure.axes[0].get_legend().get_texts()]
    assert any("dropped" in note for note in notes) is (rate > 0)
    for ax in figure.axes:  # every text at least 9 pt
        sizes = [ax.title.get_fontsize(), *(t.get_fontsize() for t in ax.get_legend().get_texts())]
        assert min(sizes) >= 9


# ----------------------------------------------------------------------------- with Keras


def test_keras_layer_orders_reads_the_blocks_the_lesson_quotes():
    pytest.importorskip("keras")
    orders = placement.keras_layer_orders()
    assert list(orders) == list(placement.KERAS_BLOCKS)
    where, layers = orders["MobileNet, first block"]
    assert where == "keras/src/applications/mobilenet.py, _conv_block"
    assert layers == ["Conv2D", "BatchNormalization", "ReLU"]


def test_placement_study_measures_the_fit_with_dropout_off():
    pytest.importorskip("keras")
    from bncourse.data import digits

    data = digits()
    trainer = Trainer(
        MLP(hidden=(16, 16), block=("dropout", "bn", "act")),
        input_dim=64,
        num_classes=10,
        fused=True,
    )
    study = placement.placement_study(trainer, data=data, seeds=[0, 1], steps=40, eval_every=20)
    assert isinstance(study, ex.ShiftStudy) and study.layers == ("bn_1", "bn_2")
    assert study.ratio.shape == (2, 2) and study.recalibrated.shape == (2,)
    assert study.train_loss.shape == study.train_accuracy.shape == (2,)
    assert [run.settings["seed"] for run in study.runs] == [0, 1]
    # the last seed's network, as the study left it: its fit, measured again, is the same
    loss, accuracy = placement.fit_without_dropout(trainer, data.x_train, data.y_train)
    assert loss == pytest.approx(study.train_loss[-1], rel=1e-5)
    assert accuracy == study.train_accuracy[-1]
    assert 0 < loss < np.log(10) + 1 and accuracy > 0.3
    with pytest.raises(ValueError, match="seed"):
        placement.placement_study(trainer, data=data, seeds=[], steps=10)
