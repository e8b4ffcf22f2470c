"""Take a trained model elsewhere: .keras, SavedModel, TFLite (float / quantized), labels, model card.

Every file written is loaded back and its predictions on a few validation images are
compared with the model's own (Keras and SavedModel within 1e-4, TFLite float within
1e-3, quantized TFLite must agree on the top class for most images), so a student
knows the copy they take away really works. TensorFlow is imported inside functions.
"""

from __future__ import annotations

import datetime as _dt
import math
import os
import shutil
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from desktop_app.core.errors import UserError
from desktop_app.core.events import Progress, Step
from desktop_app.core.fileio import copy_atomic, write_json_atomic, write_text_atomic
from desktop_app.core.runs import LABELS_FILE, MODEL_FILE, RunFolder, weights_words, write_labels

FORMATS = ("keras", "savedmodel", "tflite", "tflite-quant")
FORMAT_TITLES = {
    "keras": "Keras (.keras)",
    "savedmodel": "TensorFlow SavedModel",
    "tflite": "TensorFlow Lite",
    "tflite-quant": "TensorFlow Lite, quantized",
}
FORMAT_FILES = {"keras": MODEL_FILE, "savedmodel": "saved_model", "tflite": "model.tflite",
                "tflite-quant": "model_quantized.tflite"}
MAX_ABS_DIFF = {"keras": 1e-4, "savedmodel": 1e-4, "tflite": 1e-3}
QUANTIZED_MIN_AGREEMENT = 0.75  # "same top class on most images"
VERIFY_IMAGES = 8
INPUT_WORDS = "RGB images, pixel values 0..255 (float32); any preprocessing is inside the model"
CARD_MD, CARD_JSON = "model_card.md", "model_card.json"


@dataclass(frozen=True)
class FormatCheck:
    """One exported format and what loading it back showed."""

    format: str
    path: Path
    ok: bool
    detail: str  # one sentence for the page
    max_abs_diff: float | None = None
    top1_agreement: float | None = None  # share of images with the same top class
    images: int = 0
    size_bytes: int = 0

    @property
    def title(self) -> str:
        return FORMAT_TITLES[self.format]

    def to_dict(self) -> dict:
        data = asdict(self)
        data["path"] = str(self.path)
        return data


@dataclass
class ExportResult:
    out_dir: Path
    checks: list[FormatCheck] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)  # labels and model card
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    def summary(self) -> str:
        good = sum(c.ok for c in self.checks)
        return f"{good} of {len(self.checks)} format(s) written to {self.out_dir} and checked."


def _dir_size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def inference_copy(model):
    """The same layers and weights without the ``data_augmentation`` block (inactive at
    inference anyway), for converters that cannot handle its random operations."""
    import keras

    from desktop_app.core.augment.layers import AUGMENTATION_LAYER_NAME

    inputs = keras.Input(shape=model.input_shape[1:], name="image")
    x = inputs
    for layer in model.layers[1:]:
        if layer.name != AUGMENTATION_LAYER_NAME:
            x = layer(x)
    return keras.Model(inputs, x, name=f"{model.name}_inference")


def has_augmentation(model) -> bool:
    from desktop_app.core.augment.layers import AUGMENTATION_LAYER_NAME

    return any(layer.name == AUGMENTATION_LAYER_NAME for layer in model.layers)


def to_tflite(model, quantize: bool = False) -> tuple[bytes, str]:
    """The TFLite flatbuffer, and a note when the augmentation block had to be left out."""
    import tensorflow as tf

    def convert(m) -> bytes:
        converter = tf.lite.TFLiteConverter.from_keras_model(m)
        if quantize:  # dynamic range: weights as 8-bit integers, float input and output
            converter.optimizations = [tf.lite.Optimize.DEFAULT]
        return converter.convert()

    try:
        return convert(model), ""
    except Exception:
        if not has_augmentation(model):
            raise
    note = ("The TensorFlow Lite file was made from a copy of the model without its data-augmentation "
            "block (same weights); that block does nothing when the model predicts.")
    return convert(inference_copy(model)), note


def tflite_predict(model_path: Path | bytes, images: np.ndarray) -> np.ndarray:
    """Run a TFLite model one image at a time, as a phone would."""
    import tensorflow as tf

    content = model_path if isinstance(model_path, bytes) else None
    interpreter = tf.lite.Interpreter(model_content=content) if content else tf.lite.Interpreter(model_path=str(model_path))
    interpreter.allocate_tensors()
    inp, out = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
    rows = []
    for image in images:
        interpreter.set_tensor(inp["index"], image[np.newaxis].astype(inp["dtype"]))
        interpreter.invoke()
        rows.append(interpreter.get_tensor(out["index"])[0].astype(np.float32))
    return np.stack(rows) if rows else np.zeros((0, 0), np.float32)


def verification_images(run_dir: Path, img_size: int, n: int = VERIFY_IMAGES) -> tuple[np.ndarray, str]:
    """A few validation images of the run, one class after another; random pixels if the
    dataset is gone (the comparison still holds, it is just less telling)."""
    from desktop_app.core.results.evaluation import evaluation_files
    from desktop_app.core.results.predict import decoded_batches

    try:
        files = evaluation_files(run_dir)[0]
    except UserError:
        files = []
    by_class: dict[int, list] = {}
    for f in files:
        by_class.setdefault(f.label, []).append(f.path)
    # Round robin over the classes so every class is in the check.
    chosen = [p for group in zip(*by_class.values()) for p in group][:n] if by_class else []
    chosen += [p for group in by_class.values() for p in group if p not in chosen][: n - len(chosen)]
    images = [batch for batch, _ in decoded_batches(chosen, img_size, n)] if chosen else []
    if images and len(np.concatenate(images)):
        stacked = np.concatenate(images)
        return stacked, f"{len(stacked)} validation images"
    rng = np.random.default_rng(0)
    return rng.uniform(0, 255, (n, img_size, img_size, 3)).astype(np.float32), f"{n} random images (dataset not found)"


def _compare(fmt: str, path: Path, reference: np.ndarray, got: np.ndarray, what: str) -> FormatCheck:
    diff = float(np.max(np.abs(got - reference))) if got.size else float("inf")
    agreement = float(np.mean(np.argmax(got, 1) == np.argmax(reference, 1))) if got.size else 0.0
    size = _dir_size(path)
    common = dict(max_abs_diff=diff, top1_agreement=agreement, images=len(reference), size_bytes=size)
    if fmt == "tflite-quant":
        ok = agreement >= QUANTIZED_MIN_AGREEMENT
        detail = (f"Same top class as the trained model on {agreement:.0%} of {what} "
                  f"(largest probability difference {diff:.3f}).")
        if not ok:
            detail = "Check failed: " + detail + f" At least {QUANTIZED_MIN_AGREEMENT:.0%} was expected."
        return FormatCheck(fmt, path, ok, detail, **common)
    limit = MAX_ABS_DIFF[fmt]
    ok = diff <= limit
    needed = decimal_places(limit)
    if ok:
        same = "exactly" if diff == 0 else f"to {decimal_places(diff)} decimal places"
        detail = (f"Loaded back: predictions on {what} match the trained model {same} "
                  f"(the check needs at least {needed} decimal places).")
    elif got.size == 0:
        detail = "Check failed: loaded back, it gave no predictions."
    else:
        detail = (f"Check failed: loaded back, its predictions match the trained model's to only "
                  f"{decimal_places(diff)} decimal place(s) (needed: {needed}).")
    return FormatCheck(fmt, path, ok, detail, **common)


def decimal_places(diff: float) -> int:
    """How many decimal places two numbers ``diff`` apart agree to (1e-4 and 3.2e-5: 4)."""
    return max(0, math.floor(-math.log10(diff))) if diff > 0 else 99


def _publish_dir(tmp: Path, target: Path) -> None:
    if target.exists():
        shutil.rmtree(target) if target.is_dir() else target.unlink()
    os.replace(tmp, target)


def _write_format(fmt: str, model, model_file: Path, out_dir: Path, images: np.ndarray,
                  reference: np.ndarray, what: str, notes: list[str]) -> FormatCheck:
    import keras
    import tensorflow as tf

    target = out_dir / FORMAT_FILES[fmt]
    tmp = out_dir / f".{target.name}.{uuid.uuid4().hex}.tmp"
    try:
        if fmt == "keras":
            copy_atomic(model_file, target)  # the trained file itself: bit-for-bit the model
            loaded = keras.saving.load_model(target, compile=False, safe_mode=True)
            got = np.asarray(loaded(images, training=False))
        elif fmt == "savedmodel":
            # model.export traces the model without training=False, and Keras' random layers
            # then default to training mode: the served model would augment every photo.
            if has_augmentation(model):
                model = inference_copy(model)
                note = ("The SavedModel was made from a copy of the model without its data-augmentation block "
                        "(same weights): exported as is, the block would change every photo it is given.")
                if note not in notes:
                    notes.append(note)
            model.export(str(tmp), format="tf_saved_model", verbose=False)
            _publish_dir(tmp, target)
            loaded = tf.saved_model.load(str(target))  # keep it: its functions need its variables
            got = np.asarray(loaded.serve(tf.constant(images)))
        else:
            content, note = to_tflite(model, quantize=fmt == "tflite-quant")
            if note and note not in notes:
                notes.append(note)
            tmp.write_bytes(content)
            os.replace(tmp, target)
            got = tflite_predict(target, images)
    except OSError as e:
        raise UserError(f"Could not write to {out_dir} ({e.strerror or e}); choose another folder.") from None
    except UserError:
        raise
    except Exception as e:
        first = str(e).splitlines()[0] if str(e) else type(e).__name__
        return FormatCheck(fmt, target, False, f"Could not make this format: {first[:200]}")
    finally:
        if tmp.exists():
            shutil.rmtree(tmp) if tmp.is_dir() else tmp.unlink()
    return _compare(fmt, target, reference, got, what)


def export_run(
    run_dir: Path,
    out_dir: Path,
    formats: Sequence[str] = FORMATS,
    report: Callable[[Progress], None] = lambda event: None,
    should_stop: Callable[[], bool] = lambda: False,
) -> ExportResult | None:
    """Write the chosen formats, labels.txt and the model card to ``out_dir``; check each.

    Returns None when stopped between formats (what was written stays).
    """
    from desktop_app.core.results.predict import load_predictor

    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise UserError(f"Choose export formats from: {', '.join(FORMATS)}.")
    run_dir, out_dir = Path(run_dir), Path(out_dir).expanduser()
    if out_dir.resolve() == run_dir.resolve():
        raise UserError("Choose an export folder other than the run folder itself.")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UserError(f"Cannot create the export folder {out_dir} ({e.strerror or e}).") from None
    steps = len(formats) + 2
    report(Progress(Step.LOADING_MODEL, 0, steps))
    predictor = load_predictor(run_dir)
    model = predictor.model
    images, what = verification_images(run_dir, predictor.img_size)
    reference = predictor.probabilities(images)
    result = ExportResult(out_dir)
    for i, fmt in enumerate(formats, start=1):
        if should_stop():
            return None
        report(Progress(Step.EXPORTING, i, steps, FORMAT_TITLES[fmt]))
        result.checks.append(_write_format(fmt, model, predictor.path, out_dir, images, reference, what, result.notes))
    labels = write_labels(out_dir, predictor.classes)
    report(Progress(Step.WRITING_MODEL_CARD, steps - 1, steps))
    card = model_card(run_dir, predictor.classes, predictor.img_size, result)
    write_json_atomic(out_dir / CARD_JSON, card)
    write_text_atomic(out_dir / CARD_MD, model_card_markdown(card))
    result.files = [labels, out_dir / CARD_MD, out_dir / CARD_JSON]
    report(Progress(Step.DONE, steps, steps))
    return result


def model_card(run_dir: Path, classes: list[str], img_size: int, result: ExportResult) -> dict:
    from desktop_app.core.results.evaluation import load_evaluation

    run = RunFolder(run_dir)
    config = run.read_config()
    metrics = run.read_metrics()
    evaluation = load_evaluation(run_dir)
    phases = sorted({row.get("phase", "") for row in run.read_history()})
    return {
        "name": run.name,
        "date": _dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "classes": classes,
        "base_model": {"name": config.model.backbone, "alpha": config.model.alpha,
                       "weights": weights_words(config.model.weights)},
        "input": {"shape": [1, img_size, img_size, 3], "dtype": "float32", "description": INPUT_WORDS},
        "output": f"{len(classes)} probabilities, one per class in {LABELS_FILE} order (they add up to 1)",
        "training": {
            "data": str(config.data), "subset_percent": config.split.subset_percent,
            "epochs": config.training.epochs, "fine_tune_epochs": config.training.planned_fine_tune_epochs,
            "phases": phases, "augmentation": config.augmentation.describe(),
        },
        "metrics": {
            **{k: metrics[k] for k in ("best_val_accuracy", "best_epoch", "num_train_images", "num_val_images")
               if k in metrics},
            **({"evaluation_accuracy": evaluation.accuracy, "evaluation_images": evaluation.count,
                "per_class": [s.to_dict() for s in evaluation.per_class]} if evaluation else {}),
        },
        "files": [c.to_dict() for c in result.checks],
        "notes": result.notes,
    }


def model_card_markdown(card: dict) -> str:
    base = card["base_model"]
    alpha = f" (alpha {base['alpha']:g})" if base.get("alpha") else ""
    m = card["metrics"]
    lines = [
        f"# Model card: {card['name']}", "",
        f"Exported {card['date']} by Transfer Studio.", "",
        "## What it does", "",
        f"Sorts a photo into one of {len(card['classes'])} classes: {', '.join(card['classes'])}.", "",
        "## Input and output", "",
        f"- Input: {INPUT_WORDS}; shape {tuple(card['input']['shape'])}.",
        f"- Output: {card['output']}.", "",
        "## How it was made", "",
        f"- Base model: {base.get('name')}{alpha}, weights: {weights_words(base.get('weights'))}.",
        f"- Data: {card['training'].get('data')} ({card['training'].get('subset_percent')} % of the training photos).",
        f"- Epochs: {card['training'].get('epochs')} with the base frozen, "
        f"{card['training'].get('fine_tune_epochs') or 0} fine-tuning.",
        f"- Augmentation: {'; '.join(card['training']['augmentation'])}.", "",
        "## How well it does", "",
    ]
    if "best_val_accuracy" in m:
        lines.append(f"- Best validation accuracy during training: {m['best_val_accuracy']:.1%} "
                     f"(epoch {m.get('best_epoch')}).")
    if "evaluation_accuracy" in m:
        lines += [f"- Accuracy on {m['evaluation_images']} evaluation images: {m['evaluation_accuracy']:.1%}.", "",
                  "| class | precision | recall | F1 | images |", "|---|---|---|---|---|"]
        lines += [f"| {s['class']} | {s['precision']:.2f} | {s['recall']:.2f} | {s['f1']:.2f} | {s['support']} |"
                  for s in m["per_class"]]
    lines += ["", "## Files and their check", ""]
    for f in card["files"]:
        mark = "passed" if f["ok"] else "FAILED"
        lines.append(f"- `{Path(f['path']).name}` ({FORMAT_TITLES[f['format']]}): check {mark}. {f['detail']}")
    lines.append(f"- `{LABELS_FILE}`: the class names, one a line, in output order.")
    if card["notes"]:
        lines += ["", "## Notes", "", *[f"- {n}" for n in card["notes"]]]
    return "\n".join(lines) + "\n"
