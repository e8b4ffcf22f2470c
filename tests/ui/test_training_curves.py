"""The Train page's curves: a per-step loss that is smooth and true, legends off the curves."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from desktop_app.core import palette
from desktop_app.ui.widgets.training_curves import STEP_LOSS_WORDS, SmoothedStepLoss, TrainingCurves

BATCHES = 20
REPORTED = (1, 7, 14, 20)  # the window hears only some steps (throttled); the last always


def _keras_reports(losses_per_epoch):
    """(epoch, batch, running mean of the epoch so far), as Keras reports them, at REPORTED steps."""
    for epoch, losses in enumerate(losses_per_epoch, start=1):
        running = np.cumsum(losses) / np.arange(1, len(losses) + 1)
        for batch in REPORTED:
            yield epoch, batch, float(running[batch - 1])


def _epoch_start_jumps(values) -> float:
    """The saw-tooth: the mean jump from an epoch's last reported value to the next epoch's first."""
    per_epoch = np.array(values).reshape(-1, len(REPORTED))
    return float(np.abs(per_epoch[1:, 0] - per_epoch[:-1, -1]).mean())


def test_step_loss_no_longer_saw_tooths_at_each_epoch():
    rng = np.random.default_rng(0)
    trend = np.linspace(1.0, 0.3, 8 * BATCHES)
    losses = (trend + rng.normal(0, 0.1, trend.size)).reshape(8, BATCHES)
    reports = list(_keras_reports(losses))
    raw = [mean for _e, _b, mean in reports]  # what was drawn before: restarts at every epoch
    smooth = SmoothedStepLoss()
    for epoch, batch, mean in reports:
        smooth.add(epoch, batch, BATCHES, mean)
    assert len(smooth.ys) == len(raw)
    assert _epoch_start_jumps(smooth.ys) < 0.35 * _epoch_start_jumps(raw)
    # ... and it is true to the real per-step losses, though Keras sent only running means, and
    # only some: close to their exponential mean, step by step.
    kept = 1 - 2 / (max(8, BATCHES // 4) + 1)
    reference = losses.flat[0]
    for loss in losses.flat[1:]:
        reference = kept * reference + (1 - kept) * loss
    assert abs(smooth.ys[-1] - reference) < 0.05
    assert smooth.xs == sorted(smooth.xs) and smooth.xs[-1] == 8


def test_step_loss_is_true_to_the_values():
    """A loss that stays the same is drawn exactly as it is, across epochs and resumes."""
    smooth = SmoothedStepLoss()
    for epoch, batch, mean in _keras_reports(np.full((3, BATCHES), 0.42)):
        smooth.add(epoch, batch, BATCHES, mean)
    smooth.add(3, 5, BATCHES, 0.42)  # a resumed epoch starts its running mean again
    assert np.allclose(smooth.ys, 0.42)


def test_legend_is_outside_the_plots_and_names_every_line(qtbot):
    curves = TrainingCurves()
    qtbot.addWidget(curves)
    for plot in (curves.loss_plot, curves.accuracy_plot):
        assert plot.getPlotItem().legend is None  # nothing drawn over the curves
    assert "training" in curves.legend.text() and "validation" in curves.legend.text()
    assert STEP_LOSS_WORDS not in curves.legend.text()
    curves.add_batch(1, 1, 10, 0.9)
    assert STEP_LOSS_WORDS in curves.legend.text()
    curves.mark_phase(4, "fine-tuning\ntop 20 layers\nlearning rate 0.0001")
    assert "fine-tuning from epoch 5, top 20 layers, learning rate 0.0001" in curves.legend.text()
    curves.set_overlays({"earlier run": [{"epoch": 1, "val_loss": 1.0, "val_accuracy": 0.5}]})
    assert "earlier run (validation)" in curves.legend.text()


def test_fine_tuning_note_is_readable(qtbot):
    curves = TrainingCurves()
    qtbot.addWidget(curves)
    curves.mark_phase(4, "fine-tuning\ntop 20 layers")
    for _plot, line in curves.markers:
        text = line.label.textItem
        assert text.toPlainText() == "fine-tuning"  # one short word on the plot; details in the legend
        assert text.font().pointSizeF() >= curves.font().pointSizeF() and text.font().bold()
        assert text.defaultTextColor().name() == palette.PHASE_TEXT


def test_curves_use_the_colour_blind_safe_palette(qtbot):
    curves = TrainingCurves()
    qtbot.addWidget(curves)
    assert curves.curves["loss"].opts["pen"].color().name() == palette.TRAINING
    assert curves.curves["val_accuracy"].opts["pen"].color().name() == palette.VALIDATION
    assert isinstance(curves.batch_loss, pg.PlotDataItem)
    assert curves.batch_loss.opts["pen"].color().name() == palette.PER_STEP
