"""Lesson 07 (where to put BN): the placement and Dropout studies, the "your turn" feedback,
the figures, and the explorers (placements seed by seed, the Dropout-before-BN variance shift)."""

from __future__ import annotations

import base64
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
        boxes += [
            (t.get_text(), t.get_window_extent(renderer))
            for t in texts
            if t.get_text() and t.get_visible()
        ]
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


def shown_png(view) -> bytes:
    (item,) = view.output.outputs
    return base64.b64decode(item["data"]["image/png"])


def visible_lines(ax) -> list:
    return [line for line in ax.get_lines() if line.get_visible()]


def test_curves_figure_draws_the_two_chosen_variants_mean_and_band():
    results = {"BN → ReLU": fake_runs(0.9), "ReLU → BN": fake_runs(0.8), "plain": fake_runs(0.7)}
    figure, update = placement.setup_curves(results, colors={"plain": "#000000"})
    update(first="BN → ReLU", second="plain", metric="validation accuracy", each_seed=False)
    ax = figure.axes[0]
    assert figure.get_figwidth() <= 9
    means = visible_lines(ax)
    assert len(means) == 2
    # the mean over seeds of each chosen variant, at its steps
    for line, level in zip(means, (0.9, 0.7), strict=True):
        np.testing.assert_allclose(line.get_xdata(), [50, 100, 150])
        np.testing.assert_allclose(line.get_ydata(), level + 0.01, rtol=1e-9)
    assert means[1].get_color() == "#000000"  # the colors given win
    bands = [c for c in ax.collections if c.get_visible()]
    assert len(bands) == 2  # lowest to highest seed
    labels = [t.get_text() for t in ax.get_legend().get_texts() if t.get_visible()]
    assert labels == ["BN → ReLU (mean of 3)", "plain (mean of 3)"]
    assert ax.get_title().startswith("validation accuracy (mean over seeds")
    assert not overlapping_texts(figure)


def test_curves_figure_shows_every_seed_of_one_variant_and_the_chosen_metric():
    results = {"BN → ReLU": fake_runs(0.9), "plain": fake_runs(0.7)}
    figure, update = placement.setup_curves(results)
    update(first="plain", second="plain", metric="training loss", each_seed=True)
    ax = figure.axes[0]
    lines = visible_lines(ax)
    assert len(lines) == 3  # one per seed, of the one variant chosen twice
    for line in lines:
        np.testing.assert_allclose(line.get_ydata(), [1.0, 0.5, 0.2])
    assert not [c for c in ax.collections if c.get_visible()]
    labels = [t.get_text() for t in ax.get_legend().get_texts() if t.get_visible()]
    assert labels == ["plain (3 seeds)"]
    assert ax.get_title() == "training loss (every seed)" and ax.get_ylabel() == "training loss"
    low, high = ax.get_ylim()
    assert low <= 0.2 and high >= 1.0  # the loss is not clipped


@pytest.mark.parametrize("metric", list(placement.METRICS))
def test_curves_figure_keeps_one_scale_per_metric_that_holds_every_final_value(metric):
    results = {"a": fake_runs(0.95), "b": fake_runs(0.6)}
    figure, update = placement.setup_curves(results)
    ax = figure.axes[0]
    limits = set()
    for first, second in [("a", "b"), ("a", "a"), ("b", "b")]:
        for each_seed in (False, True):
            update(first=first, second=second, metric=metric, each_seed=each_seed)
            limits.add(ax.get_ylim())
    assert len(limits) == 1  # the variants shown do not move the axis
    ((low, high),) = limits
    key = placement.METRICS[metric]
    finals = [getattr(run, key)[-1] for runs in results.values() for run in runs]
    assert low < min(finals) and max(finals) <= high
    assert ax.get_xlim()[0] < 50 and ax.get_xlim()[1] > 150


def test_curves_explorer_redraws_in_place_and_needs_two_variants():
    results = {"BN → ReLU": fake_runs(0.9), "ReLU → BN": fake_runs(0.8), "plain": fake_runs(0.7)}
    view = placement.curves_explorer(results)
    assert view.static_png.startswith(b"\x89PNG") and view.live is not None
    before = shown_png(view)
    view.controls["second"].value = "plain"
    assert shown_png(view) != before
    view.controls["each_seed"].value = True
    assert view.live.full_redraws == 0  # variants and seeds redraw in place
    view.controls["metric"].value = "training loss"  # another axis: the whole figure again
    assert view.live.full_redraws == 1
    with pytest.raises(ValueError, match="two variants"):
        placement.curves_explorer({"only": fake_runs(0.9)})


def title_variances(ax) -> list[float]:
    """The variances a panel's title reports, in order."""
    return [float(word) for word in ax.get_title().replace(",", " ").split() if "." in word]


def test_variance_shift_figure_reports_the_shrunken_inference_output():
    figure, update = placement.setup_variance_shift()
    left, right = figure.axes
    update(rate=0.5, mean=0.0)
    # zero-mean unit, keep probability 0.5: training variance 2, inference output about 0.5
    training, inference = title_variances(left)
    assert training == pytest.approx(2.0, rel=0.05) and inference == pytest.approx(1.0, rel=0.05)
    assert title_variances(right)[0] == pytest.approx(0.5, abs=0.03)
    update(rate=0.0, mean=0.0)
    assert title_variances(right)[0] == pytest.approx(1.0, abs=0.01)


def test_variance_shift_histograms_are_the_simulated_unit():
    figure, update = placement.setup_variance_shift()
    update(rate=0.3, mean=1.25)
    training, inference = placement.dropout_variance(0.3, 1.25)
    training_hist, inference_hist = figure.axes[0].patches[:2]
    for patch, values in ((training_hist, training), (inference_hist, inference)):
        heights, edges = patch.get_data()[:2]
        np.testing.assert_allclose(heights, np.histogram(values, bins=edges, density=True)[0])


RATES = np.round(np.arange(0.0, 0.8 + 1e-9, 0.1), 2)
MEANS = np.arange(0.0, 2.0 + 1e-9, 0.25)


def test_variance_shift_axes_hold_what_the_learner_must_see_at_every_slider_value():
    figure, update = placement.setup_variance_shift()
    left, right = figure.axes
    training_hist, inference_hist = left.patches[:2]
    (output_hist,) = right.patches[:1]
    for rate, mean in itertools.product(RATES, MEANS):
        update(rate=float(rate), mean=float(mean))
        heights, edges = inference_hist.get_data()[:2]
        # N(mean, 1) within 4 standard deviations, and below the top
        assert edges[0] <= mean - 4 and edges[-1] >= mean + 4
        assert heights.max() < left.get_ylim()[1]
        heights, edges = training_hist.get_data()[:2]
        spike = (edges[:-1] <= 0) & (edges[1:] > 0)
        assert heights[~spike].max() < left.get_ylim()[1]  # only the spike at 0 is cut off
        assert left.get_lines()[0].get_visible() is bool(rate > 0)  # its mark
        assert output_hist.get_data()[0].max() < right.get_ylim()[1]
    assert (left.get_xlim(), left.get_ylim()) == ((edges[0], edges[-1]), (0.0, 0.6))


def test_variance_shift_explorer_has_no_colliding_text_at_any_slider_value():
    view = placement.variance_shift_explorer()
    rate, mean = view.controls["rate"], view.controls["mean"]
    # the sliders cover the range the axes were chosen for
    assert (rate.min, rate.max, rate.step) == placement.SHIFT_RATES
    assert (mean.min, mean.max, mean.step) == placement.SHIFT_MEANS
    np.testing.assert_allclose(RATES, np.arange(rate.min, rate.max + 1e-9, rate.step))
    np.testing.assert_allclose(MEANS, np.arange(mean.min, mean.max + 1e-9, mean.step))
    # the layout is solved once, at the explorer's first values, then frozen
    figure = view.live.figure
    assert figure.get_figwidth() <= 9
    for values in [(0.0, 0.0), (0.1, 1.25), (0.6, 2.0), (0.8, 0.75), (0.8, 2.0)]:
        rate.value, mean.value = values
        assert not overlapping_texts(figure)
        renderer = figure.canvas.get_renderer()
        for ax in figure.axes:  # every text at least 9 pt, and inside the figure
            texts = [ax.title, *ax.get_legend().get_texts()]
            assert min(text.get_fontsize() for text in texts) >= 9
            for text in texts:
                box = text.get_window_extent(renderer)
                assert figure.bbox.x0 <= box.x0 and box.x1 <= figure.bbox.x1
                assert figure.bbox.y0 <= box.y0 and box.y1 <= figure.bbox.y1
    assert view.live.full_redraws == 0


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
