"""The lab report: one self-contained HTML file about a training run.

Sections: dataset and class chart, example photos, augmentation, the model's top level and
parameter counts per phase, the training settings of each phase, the curves of all phases
with the fine-tune marker, the confusion matrix, per-class scores and the most-wrong images,
then the library versions. Photos may show people (children, in a class), so the report
holds photos only when asked (``photos=True``): the example photos, the augmentation grid
and the most-wrong thumbnails; otherwise the most-wrong images are listed by file name.
Charts are inline SVG, pictures base64 PNG, so the file opens anywhere with nothing beside
it. No Qt here; TensorFlow only through the functions that run the model.
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
import io
from collections.abc import Callable, Sequence
from pathlib import Path

from PIL import Image

from desktop_app.core import palette
from desktop_app.core.errors import UserError
from desktop_app.core.events import Progress, Step
from desktop_app.core.fileio import write_text_atomic
from desktop_app.core.palette import sequential, text_on
from desktop_app.core.runs import RunFolder, weights_words
from desktop_app.core.session import FEATURE_EXTRACTION, FINE_TUNING, TrainingConfig
from desktop_app.core.versions import library_versions, versions_words

TRAIN_COLOUR, VAL_COLOUR = palette.TRAINING, palette.VALIDATION  # as on the Data page
CURVE_TRAIN, CURVE_VAL, MARKER = palette.TRAINING, palette.VALIDATION, palette.PHASE  # as on the Train page
SECTIONS = ("dataset", "photos", "augmentation", "model", "training", "curves", "confusion", "per-class",
            "most-wrong")
THUMB = 96
EXAMPLES_PER_CLASS = 3

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; color: #212529; max-width: 1000px;
       margin: 24px auto; padding: 0 16px; line-height: 1.45; }
body { overflow-wrap: break-word; }
h1 { color: #1f3b63; } h2 { color: #1f3b63; border-bottom: 2px solid #dee2e6; padding-bottom: 4px; margin-top: 36px; }
table { border-collapse: collapse; margin: 8px 0; } th, td { border: 1px solid #dee2e6; padding: 4px 10px; }
table { display: block; max-width: 100%; overflow-x: auto; } /* on a phone a wide table scrolls, not the page */
th { background: #f1f3f5; text-align: left; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
.cm td { text-align: center; min-width: 44px; } .note { color: #495057; }
.gallery { display: flex; flex-wrap: wrap; gap: 12px; } .gallery figure { margin: 0; width: 120px; font-size: 13px; }
.gallery img { width: 96px; height: 96px; object-fit: cover; border: 1px solid #ced4da; }
svg, img { max-width: 100%; height: auto; }
"""


def png_data_uri(image: Image.Image) -> str:
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _e(value) -> str:
    return html.escape(str(value))


def _table(header: Sequence[str], rows: Sequence[Sequence], numeric_from: int = 1, css: str = "") -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td class='num'>{_e(c)}</td>" if i >= numeric_from else f"<td>{_e(c)}</td>"
                         for i, c in enumerate(row)) + "</tr>"
        for row in rows
    )
    return f"<table class='{css}'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


# ----- charts as inline SVG -----

def class_chart_svg(classes: Sequence[str], train: Sequence[int], val: Sequence[int]) -> str:
    """Grouped bars: training and validation images per class."""
    width, height, left, bottom, top = 640, 260, 48, 60, 16
    top_value = max([*train, *val, 1])
    plot_w, plot_h = width - left - 10, height - bottom - top
    group = plot_w / max(1, len(classes))
    bar = min(28.0, group * 0.35)
    parts = [f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' "
             f"viewBox='0 0 {width} {height}' role='img' "
             f"aria-label='Images per class'>",
             f"<line x1='{left}' y1='{top + plot_h}' x2='{width - 10}' y2='{top + plot_h}' stroke='#495057'/>"]
    for tick in range(5):
        value = top_value * tick / 4
        y = top + plot_h - plot_h * tick / 4
        parts.append(f"<text x='{left - 6}' y='{y + 4:.1f}' font-size='11' text-anchor='end'>{value:.0f}</text>"
                     f"<line x1='{left}' y1='{y:.1f}' x2='{width - 10}' y2='{y:.1f}' stroke='#e9ecef'/>")
    for i, name in enumerate(classes):
        x0 = left + i * group + group / 2
        for offset, count, colour in ((-bar, train[i], TRAIN_COLOUR), (0.0, val[i], VAL_COLOUR)):
            h = plot_h * count / top_value
            parts.append(f"<rect x='{x0 + offset:.1f}' y='{top + plot_h - h:.1f}' width='{bar:.1f}' height='{h:.1f}' "
                         f"fill='{colour}'><title>{_e(name)}: {count}</title></rect>")
        parts.append(f"<text x='{x0:.1f}' y='{top + plot_h + 16}' font-size='12' text-anchor='middle'>{_e(name)}</text>")
    parts.append(f"<rect x='{left}' y='{height - 22}' width='12' height='12' fill='{TRAIN_COLOUR}'/>"
                 f"<text x='{left + 16}' y='{height - 12}' font-size='12'>training</text>"
                 f"<rect x='{left + 100}' y='{height - 22}' width='12' height='12' fill='{VAL_COLOUR}'/>"
                 f"<text x='{left + 116}' y='{height - 12}' font-size='12'>validation</text></svg>")
    return "".join(parts)


def curve_svg(history: Sequence[dict], keys: tuple[str, str], title: str, y_max: float | None = None) -> str:
    """One plot of a training and a validation series over epochs, with phase markers."""
    width, height, left, bottom, top, right = 460, 260, 52, 40, 28, 12
    plot_w, plot_h = width - left - right, height - top - bottom
    series = {k: [(r["epoch"], r[k]) for r in history if r.get(k) is not None] for k in keys}
    values = [v for pts in series.values() for _, v in pts]
    last_epoch = max([r["epoch"] for r in history] + [1])
    hi = y_max if y_max is not None else (max(values) * 1.05 if values else 1.0) or 1.0
    x = lambda e: left + plot_w * (e - 1) / max(1, last_epoch - 1) if last_epoch > 1 else left + plot_w / 2  # noqa: E731
    y = lambda v: top + plot_h - plot_h * min(v, hi) / hi  # noqa: E731
    parts = [f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' "
             f"viewBox='0 0 {width} {height}' role='img' "
             f"aria-label='{_e(title)}'><text x='{left}' y='18' font-size='14' font-weight='600'>{_e(title)}</text>",
             f"<rect x='{left}' y='{top}' width='{plot_w}' height='{plot_h}' fill='none' stroke='#adb5bd'/>"]
    for tick in range(5):
        value = hi * tick / 4
        parts.append(f"<text x='{left - 6}' y='{y(value) + 4:.1f}' font-size='11' text-anchor='end'>{value:.2f}</text>")
    for epoch in range(1, last_epoch + 1):
        if last_epoch <= 20 or epoch % max(1, last_epoch // 10) == 0:
            parts.append(f"<text x='{x(epoch):.1f}' y='{top + plot_h + 16}' font-size='11' "
                         f"text-anchor='middle'>{epoch}</text>")
    parts.append(f"<text x='{left + plot_w / 2}' y='{height - 4}' font-size='12' text-anchor='middle'>epoch</text>")
    for prev, row in zip(history, history[1:]):
        if row.get("phase") != prev.get("phase"):
            mx = (x(prev["epoch"]) + x(row["epoch"])) / 2
            parts.append(f"<line class='phase-marker' x1='{mx:.1f}' y1='{top}' x2='{mx:.1f}' y2='{top + plot_h}' "
                         f"stroke='{MARKER}' stroke-width='2' stroke-dasharray='6 4'/>"
                         f"<text x='{mx + 4:.1f}' y='{top + 14}' font-size='11' fill='{MARKER}'>"
                         f"{_e(str(row.get('phase', '')).replace('_', ' '))}</text>")
    for key, colour, name in ((keys[0], CURVE_TRAIN, "training"), (keys[1], CURVE_VAL, "validation")):
        pts = series[key]
        if pts:
            path = " ".join(f"{x(e):.1f},{y(v):.1f}" for e, v in pts)
            parts.append(f"<polyline points='{path}' fill='none' stroke='{colour}' stroke-width='2.5'/>")
            parts += [f"<circle cx='{x(e):.1f}' cy='{y(v):.1f}' r='3' fill='{colour}'><title>{name} "
                      f"epoch {e}: {v:.3f}</title></circle>" for e, v in pts]
    legend_x = left + plot_w - 150
    parts.append(f"<rect x='{legend_x}' y='{top + 6}' width='10' height='10' fill='{CURVE_TRAIN}'/>"
                 f"<text x='{legend_x + 14}' y='{top + 15}' font-size='11'>training</text>"
                 f"<rect x='{legend_x + 72}' y='{top + 6}' width='10' height='10' fill='{CURVE_VAL}'/>"
                 f"<text x='{legend_x + 86}' y='{top + 15}' font-size='11'>validation</text></svg>")
    return "".join(parts)


def confusion_html(matrix, classes: Sequence[str]) -> str:
    head = "<th>true \\ predicted</th>" + "".join(f"<th>{_e(c)}</th>" for c in classes)
    rows = []
    for i, name in enumerate(classes):
        total = max(1, int(matrix[i].sum()))
        cells = []
        for j in range(len(classes)):
            value = int(matrix[i, j])
            colour = sequential(value / total)
            cells.append(f"<td style='background:{colour};color:{text_on(colour)}' "
                         f"title='{value} {_e(name)} image(s) predicted as {_e(classes[j])}'>{value}</td>")
        rows.append(f"<tr><th>{_e(name)}</th>{''.join(cells)}</tr>")
    return f"<table class='cm'><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


# ----- the sections -----

def _dataset_section(config: TrainingConfig, metrics: dict) -> str:
    classes = metrics.get("classes", [])
    train = [metrics.get("train_images_per_class", {}).get(c, 0) for c in classes]
    val = [metrics.get("val_images_per_class", {}).get(c, 0) for c in classes]
    rows = [(c, t, v, t + v) for c, t, v in zip(classes, train, val)]
    rows.append(("all", sum(train), sum(val), sum(train) + sum(val)))
    return (
        f"<p>Images from <code>{_e(config.data)}</code>: {len(classes)} classes, "
        f"{_e(round(100 * config.split.val_fraction))} % of the photos kept for validation, "
        f"{config.split.subset_percent:g} % of the training photos used (seed {_e(config.split.seed)}).</p>"
        + _table(("class", "training", "validation", "total"), rows)
        + class_chart_svg(classes, train, val)
    )


def _augmentation_section(config: TrainingConfig, split, photos: bool) -> str:
    spec = config.augmentation
    if spec.is_identity:
        return "<p>No augmentation: the model saw every training photo unchanged.</p>"
    lines = "".join(f"<li>{_e(line)}</li>" for line in spec.describe())
    out = (f"<p>Each training photo was changed at random every epoch (this block is switched off when the "
           f"model predicts):</p><ul>{lines}</ul>")
    return out + (_augmentation_grid(config, split) if photos else "")


def _augmentation_grid(config: TrainingConfig, split) -> str:
    if not split or not split.train:
        return "<p class='note'>No example grid: the dataset folder is not available.</p>"
    from desktop_app.core.augment.preview import grid_image, render_preview

    try:  # one of the photos the model really trained on
        grid = grid_image(render_preview(split.train[0].path, config.augmentation, seed=config.split.seed, size=128))
    except UserError as e:
        return f"<p class='note'>No example grid: {_e(e)}</p>"
    return (f"<p class='note'>Example: one training photo and random versions of it.</p>"
            f"<img alt='Augmentation examples' src='{png_data_uri(grid)}'>")


def _phase_title(phase: str, config: TrainingConfig) -> str:
    if phase == FINE_TUNING:
        return f"fine-tuning (top {config.training.unfreeze_layers} layers of the base unfrozen)"
    return "feature extraction (base frozen)"


def _model_section(model, config: TrainingConfig) -> str:
    from desktop_app.core.model.builder import preview_unfreeze, summarize, unfreeze_top

    unfreeze_top(model, 0)  # as in feature extraction: the base frozen
    frozen = summarize(model)
    rows = [(n.name, n.type_name, n.output_shape, f"{n.params:,}", f"{n.trainable_params:,}")
            for n in frozen.root.children]
    phases = [(_phase_title(FEATURE_EXTRACTION, config), frozen.counts)]
    if config.training.planned_fine_tune_epochs:
        k = config.training.unfreeze_layers
        phases.append((_phase_title(FINE_TUNING, config), preview_unfreeze(frozen, k).counts))
    count_rows = [(name, f"{c.total:,}", f"{c.trainable:,}", f"{c.non_trainable:,}") for name, c in phases]
    m = config.model
    alpha = f", alpha {m.alpha:g}" if m.alpha else ""
    return (
        f"<p>Base model <b>{_e(m.backbone)}</b>{_e(alpha)}, weights: {_e(weights_words(m.weights))}; input "
        f"{m.img_size}×{m.img_size} RGB, pixel values 0..255 (preprocessing is inside "
        f"the model).</p><h3>Top level of the model</h3>"
        + _table(("layer", "type", "output shape", "parameters", "trainable"), rows, numeric_from=3)
        + "<h3>Parameters per phase</h3>"
        + _table(("phase", "total", "trainable", "frozen (non-trainable)"), count_rows)
    )


def _epoch_span(first: int, last: int) -> str:
    if last < first:
        return "none"
    return str(first) if first == last else f"{first} to {last}"


def _phase_epochs(history: list[dict], phase: str, planned: tuple[int, int]) -> str:
    """The epochs the history holds for a phase, and those its settings plan."""
    done = [r["epoch"] for r in history if r.get("phase") == phase]
    ran = _epoch_span(min(done), max(done)) if done else "none yet"
    return f"{ran} (planned: {_epoch_span(*planned)})"


def _training_section(config: TrainingConfig, history: list[dict]) -> str:
    t = config.training
    phases = [(FEATURE_EXTRACTION, (1, t.epochs), t.learning_rate, "yes" if t.fast else "no")]
    if t.planned_fine_tune_epochs or any(r.get("phase") == FINE_TUNING for r in history):
        # The base learns too, so every photo goes through the whole model: no stored embeddings.
        phases.append((FINE_TUNING, (t.epochs + 1, t.total_epochs), t.fine_tune_lr, "no"))
    size, subset = config.model.img_size, config.split.subset_percent
    per_phase = [
        ("epochs (done, and planned)", [_phase_epochs(history, p, planned) for p, planned, _, _ in phases]),
        ("learning rate (size of each learning step)", [f"{lr:g}" for _, _, lr, _ in phases]),
        ("batch size (photos per learning step)", [t.batch_size] * len(phases)),
        ("optimizer (how the steps are taken)", [t.optimizer] * len(phases)),
        ("label smoothing", [f"{t.label_smoothing:g}" if t.label_smoothing else "off"] * len(phases)),
        ("fast mode (the head learns from stored embeddings)", [fast for *_, fast in phases]),
        ("image size", [f"{size}×{size} pixels"] * len(phases)),
        ("training photos used (subset)", [f"{subset:g} %"] * len(phases)),
    ]
    header = ("setting", *(_phase_title(p, config) for p, *_ in phases))
    return ("<p>An epoch is one pass through all the training photos. Fine-tuning learns with smaller steps, "
            "so the pretrained layers change only a little.</p>"
            + _table(header, [(name, *values) for name, values in per_phase], numeric_from=len(header)))


def _curves_section(history: list[dict]) -> str:
    if not history:
        return "<p>This run has no finished epochs.</p>"
    phases = {r.get("phase") for r in history}
    note = ("<p class='note'>The dashed green line marks where fine-tuning started.</p>"
            if len(phases) > 1 else "")
    return (curve_svg(history, ("loss", "val_loss"), "Loss (lower is better)")
            + curve_svg(history, ("accuracy", "val_accuracy"), "Accuracy (higher is better)", y_max=1.0) + note)


def _thumbnail(path: Path) -> Image.Image | None:
    from desktop_app.core.data.images import open_rgb

    try:
        image = open_rgb(path, max_side=2 * THUMB)
    except Exception:  # a file moved or broken since evaluation: leave the picture out
        return None
    image.thumbnail((THUMB, THUMB))
    return image


def _figure(path: Path, caption: str) -> str:
    """A thumbnail with its caption (HTML); a photo that cannot be read keeps only the caption."""
    thumb = _thumbnail(path)
    img = f"<img alt='{_e(path.name)}' src='{png_data_uri(thumb)}'>" if thumb else ""
    return f"<figure>{img}<figcaption>{caption}</figcaption></figure>"


def _gallery(figures: Sequence[str]) -> str:
    return f"<div class='gallery'>{''.join(figures)}</div>"


def _photos_section(split, photos: bool) -> str:
    if not photos:
        return ("<p>This report holds no photos, because photos may show people. Write it again with example "
                "photos switched on to see some training photos, the augmentation examples and the photos the "
                "model got most wrong.</p>")
    if not split or not split.train:
        return "<p class='note'>No example photos: the dataset folder is not available.</p>"
    examples = [(name, [f.path for f in split.train if f.label == label][:EXAMPLES_PER_CLASS])
                for label, name in enumerate(split.classes)]
    figures = [_figure(path, f"<b>{_e(name)}</b>") for name, paths in examples for path in paths]
    return f"<p>Up to {EXAMPLES_PER_CLASS} of the training photos of each class.</p>" + _gallery(figures)


def _most_wrong_section(evaluation, photos: bool) -> str:
    wrong = evaluation.most_wrong()
    if not wrong:
        return "<p>No wrong answers on these images.</p>"
    intro = ("<p>The wrong answers the model was most sure of: often a hint at confusing photos or wrong "
             "labels.</p>")
    classes = evaluation.classes
    if photos:
        return intro + _gallery([_figure(w.path, f"is <b>{_e(classes[w.true_label])}</b>, predicted "
                                                 f"<b>{_e(classes[w.predicted_label])}</b> ({w.probability:.0%})")
                                 for w in wrong])
    rows = [(w.path.name, classes[w.true_label], classes[w.predicted_label], f"{w.probability:.0%}")
            for w in wrong]
    return intro + _table(("photo (file name)", "true class", "predicted", "how sure"), rows, numeric_from=3)


def _training_split(run_dir: Path):
    """The run's photos as recorded (a ``Split``), or None when its dataset folder is gone."""
    from desktop_app.core.results.evaluation import run_photos

    try:
        return run_photos(run_dir).split
    except (UserError, OSError):
        return None


def _chance_words(evaluation) -> str:
    """What accuracy needs no learning: guessing at random, or always saying the largest class."""
    n = len(evaluation.classes)
    largest = max((s.support for s in evaluation.per_class), default=0) / max(1, evaluation.count)
    return (f"guessing would get {1 / max(1, n):.0%} with {n} classes; always answering the largest class "
            f"would get {largest:.0%}")


def _versions_footer(metrics: dict) -> str:
    trained = metrics.get("versions")  # recorded by runs made since runs record them
    now = library_versions()
    lines = [f"Trained with {versions_words(trained)}."] if isinstance(trained, dict) and trained else []
    lines.append("Report written with the same versions." if trained == now
                 else f"Report written with {versions_words(now)}.")
    paragraphs = "".join(f"<p class='note'>{_e(line)}</p>" for line in lines)
    return f"<footer id='versions'><h2>Made with</h2>{paragraphs}</footer>"


def build_report(run_dir: Path, evaluation, model, photos: bool = False) -> str:
    """The HTML text; ``evaluation`` from ``evaluate_run``, ``model`` the run's model (changed: base frozen);
    ``photos``: include example photos (off by default: photos may show people)."""
    run = RunFolder(run_dir).info()
    if run is None:
        raise UserError(f"{run_dir} is not a training run folder (it has no {RunFolder.CONFIG}).")
    config, metrics = run.config, dict(run.metrics)
    metrics.setdefault("classes", evaluation.classes)
    split = _training_split(run_dir) if photos else None  # without photos the dataset folder is not needed
    macro = evaluation.macro_average()
    per_class_rows = [(s.name, f"{s.precision:.2f}", f"{s.recall:.2f}", f"{s.f1:.2f}", s.support)
                      for s in evaluation.per_class]
    per_class_rows.append(("average (macro)", f"{macro['precision']:.2f}", f"{macro['recall']:.2f}",
                           f"{macro['f1']:.2f}", evaluation.count))
    best = metrics.get("best_val_accuracy")
    sections = {
        "dataset": ("1. Dataset", _dataset_section(config, metrics)),
        "photos": ("2. Example photos", _photos_section(split, photos)),
        "augmentation": ("3. Augmentation", _augmentation_section(config, split, photos)),
        "model": ("4. Model", _model_section(model, config)),
        "training": ("5. Training settings", _training_section(config, run.history)),
        "curves": ("6. Training curves", _curves_section(run.history)),
        "confusion": ("7. Confusion matrix",
                      "<p>Rows: the true class; columns: what the model said. The diagonal holds the right "
                      "answers.</p>" + confusion_html(evaluation.confusion, evaluation.classes)),
        "per-class": ("8. Scores per class",
                      "<p>Precision: of the photos it called this class, how many were. Recall: of the photos "
                      "of this class, how many it found. F1 combines both.</p>"
                      + _table(("class", "precision", "recall", "F1", "images"), per_class_rows)),
        "most-wrong": ("9. Most-wrong examples", _most_wrong_section(evaluation, photos)),
    }
    date = _dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M")
    body = "".join(f"<section id='{key}'><h2>{_e(title)}</h2>{content}</section>"
                   for key, (title, content) in sections.items())
    best_words = f"; best validation accuracy during training {best:.1%}" if best is not None else ""
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>Lab report: {_e(run.name)}</title><style>{STYLE}</style></head><body>"
        f"<h1>Lab report: {_e(run.name)}</h1>"
        f"<p class='note'>Written by Transfer Studio on {date}.</p>"
        f"<p><b>Accuracy {evaluation.accuracy:.1%}</b> on {_e(evaluation.source or f'{evaluation.count} images')}"
        f" ({_e(_chance_words(evaluation))}){best_words}.</p>{body}{_versions_footer(metrics)}</body></html>"
    )


def write_report(
    run_dir: Path,
    out: Path | None = None,
    report: Callable[[Progress], None] = lambda event: None,
    should_stop: Callable[[], bool] = lambda: False,
    photos: bool = False,
) -> Path | None:
    """Evaluate the run if needed, write the report (default: the run folder's report file); with
    ``photos``, example photos too (off by default: photos may show people)."""
    import keras

    from desktop_app.core.results.evaluation import evaluate_run, load_evaluation
    from desktop_app.core.results.predict import load_predictor

    run = RunFolder(run_dir)
    run_dir = run.path
    if not run.has_model():
        raise UserError(f"There is no trained model in {run_dir} yet: a run saves its model when its training ends.")
    out = Path(out).expanduser() if out is not None else run.report_path
    evaluation = load_evaluation(run_dir)
    if evaluation is None:
        evaluation = evaluate_run(run_dir, report=report, should_stop=should_stop)
        if evaluation is None:
            return None
    report(Progress(Step.WRITING_REPORT, 0, 1))
    load_predictor(run_dir)  # a damaged model file is said in a sentence here
    # A private copy: the report freezes its base to count parameters per phase.
    model = keras.saving.load_model(run.model_path, compile=False)
    text = build_report(run_dir, evaluation, model, photos=photos)
    try:
        write_text_atomic(out, text)
    except OSError as e:
        raise UserError(f"Could not write the report to {out} ({e.strerror or e}).") from None
    report(Progress(Step.WRITING_REPORT, 1, 1))
    return out

