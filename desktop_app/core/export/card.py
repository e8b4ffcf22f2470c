"""The model card: what a developer needs to use the exported files, in JSON and Markdown.

It names files relative to the export folder (the folder can move), the versions that
trained and exported the model, the exact preprocessing a client must repeat, the tensor
names of each format and how each file did on the validation photos.
"""

from __future__ import annotations

import datetime as _dt
from pathlib import Path

from desktop_app.core.export.check import percent
from desktop_app.core.export.formats import INPUT_WORDS
from desktop_app.core.runs import LABELS_FILE, RunFolder, weights_words
from desktop_app.core.versions import library_versions, versions_words

CARD_MD, CARD_JSON = "model_card.md", "model_card.json"


def preprocessing(size: int) -> dict:
    """How the app turns a photo into the model's input: a client that repeats it gets the app's answers."""
    return {
        "decode": "to 8-bit RGB; a photo is first turned upright by its EXIF orientation; transparent pixels are "
                  "put on white; grey photos get the same value in all three channels",
        "resize": f"to {size} x {size} pixels, bilinear, as TensorFlow's tf.image.resize(image, ({size}, {size})) "
                  "(half-pixel centres, no antialiasing)",
        "aspect": "squashed: the whole photo is stretched to a square; nothing is cropped or padded",
        "channel_order": "RGB, channels last: shape (batch, height, width, 3)",
        "value_range": "float32 pixel values 0..255, not normalised: the model does its own scaling inside",
        "int8_file": "model_int8.tflite takes uint8 pixels q = round(pixel / scale + zero_point) and gives uint8 "
                     "scores, probability = scale * (q - zero_point); scale and zero point are in its tensors below",
        "pillow_note": "Pillow's Image.resize(..., BILINEAR) antialiases when it shrinks, so its pixels differ "
                       "slightly and a few close answers change; resize as above to get the app's answers",
    }


def _data_words(data) -> str:
    return Path(str(data)).name if data else ""


def _weights(weights: str | None) -> str:
    """ImageNet, random, or a weights file by its name (never a path on the trainer's disk)."""
    words = weights_words(weights)
    return Path(words).name if weights and Path(weights).suffix else words


def model_card(run_dir: Path, classes: list[str], img_size: int, result) -> dict:
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
        "labels_file": LABELS_FILE,
        "versions": {"trained_with": metrics.get("versions", {}), "exported_with": library_versions()},
        "base_model": {"name": config.model.backbone, "alpha": config.model.alpha,
                       "weights": _weights(config.model.weights)},
        "input": {"shape": [1, img_size, img_size, 3], "dtype": "float32",
                  "description": INPUT_WORDS.format(size=img_size)},
        "preprocessing": {k: v for k, v in preprocessing(img_size).items()
                          if k != "int8_file" or any(c.format == "tflite-int8" for c in result.checks)},
        "output": f"{len(classes)} probabilities, one per class in {LABELS_FILE} order (they add up to 1)",
        "training": {
            "data": _data_words(config.data), "subset_percent": config.split.subset_percent,
            "epochs": config.training.epochs, "fine_tune_epochs": config.training.planned_fine_tune_epochs,
            "phases": phases, "augmentation": config.augmentation.describe(),
        },
        "metrics": {
            **{k: metrics[k] for k in ("best_val_accuracy", "best_epoch", "num_train_images", "num_val_images")
               if k in metrics},
            **({"evaluation_accuracy": evaluation.accuracy, "evaluation_images": evaluation.count,
                "per_class": [s.to_dict() for s in evaluation.per_class]} if evaluation else {}),
        },
        "checked_on": result.photos,
        "files": [c.to_dict() for c in result.checks],
        "notes": result.notes,
    }


def _tensor_words(tensor: dict) -> str:
    quantized = f", scale {tensor['scale']:.6g}, zero point {tensor['zero_point']}" if tensor.get("scale") else ""
    return f"`{tensor['name']}` ({tensor['dtype']}, shape {tensor.get('shape')}{quantized})"


def _file_lines(f: dict) -> list[str]:
    mark = "CHECK FAILED" if not f["ok"] else "checked, with a warning" if f.get("caution") else "checked"
    lines = [f"### `{f['file']}`: {f['title']}", "", f"- {mark} in {f['runtime'] or 'its runtime'}: {f['detail']}"]
    if f.get("accuracy") is not None:
        lines.append(f"- Validation accuracy of this file: {percent(f['accuracy'])}.")
    tensors = f.get("tensors") or {}
    if "input" in tensors:
        lines += [f"- Input: {_tensor_words(tensors['input'])}; output: {_tensor_words(tensors['output'])}."]
    for name, signature in tensors.items():
        if name in ("input", "output"):
            continue
        inputs = ", ".join(f"`{k}` ({v['dtype']}, shape {v['shape']})" for k, v in signature["inputs"].items())
        outputs = ", ".join(f"`{k}`" for k in signature["outputs"])
        note = f" ({signature['note']})" if signature.get("note") else ""
        lines.append(f"- Signature `{name}`: input {inputs}; output {outputs}{note}.")
    return lines + [""]


def model_card_markdown(card: dict) -> str:
    base = card["base_model"]
    alpha = f" (alpha {base['alpha']:g})" if base.get("alpha") else ""
    m, t = card["metrics"], card["training"]
    lines = [
        f"# Model card: {card['name']}", "",
        f"Exported {card['date']} by Transfer Studio.", "",
        "## What it does", "",
        f"Sorts a photo into one of {len(card['classes'])} classes: {', '.join(card['classes'])}.", "",
        "## Input and output", "",
        f"- Input: {card['input']['description']}; shape {tuple(card['input']['shape'])}.",
        f"- Output: {card['output']}. The class names are in `{card['labels_file']}`, and inside the exported "
        "files: the SavedModel's assets, the TensorFlow Lite files' metadata, the ONNX file's metadata "
        "(`labels`).", "",
        "## Preparing a photo", "",
        *[f"- {key.replace('_', ' ').capitalize()}: {text}." for key, text in card["preprocessing"].items()], "",
        "## How it was made", "",
        f"- Base model: {base.get('name')}{alpha}, weights: {base.get('weights')}.",
        f"- Data: the folder {t.get('data')} ({t.get('subset_percent'):g} % of the training photos).",
        f"- Epochs: {t.get('epochs')} with the base frozen, {t.get('fine_tune_epochs') or 0} fine-tuning.",
        f"- Augmentation: {'; '.join(t['augmentation'])}.",
    ]
    if card["versions"]["trained_with"]:
        lines.append(f"- Trained with {versions_words(card['versions']['trained_with'])}.")
    lines += [f"- Exported with {versions_words(card['versions']['exported_with'])}.", "", "## How well it does", ""]
    if "best_val_accuracy" in m:
        lines.append(f"- Best validation accuracy during training: {m['best_val_accuracy']:.1%} "
                     f"(epoch {m.get('best_epoch')}).")
    if "evaluation_accuracy" in m:
        lines += [f"- Accuracy on {m['evaluation_images']} evaluation images: {m['evaluation_accuracy']:.1%}.", "",
                  "| class | precision | recall | F1 | images |", "|---|---|---|---|---|"]
        lines += [f"| {s['class']} | {s['precision']:.2f} | {s['recall']:.2f} | {s['f1']:.2f} | {s['support']} |"
                  for s in m["per_class"]]
    lines += ["", f"## The files, each run back on {card['checked_on']}", ""]
    for f in card["files"]:
        lines += _file_lines(f)
    lines.append(f"- `{LABELS_FILE}`: the class names, one a line, in output order.")
    if card["notes"]:
        lines += ["", "## Notes", "", *[f"- {n}" for n in card["notes"]]]
    return "\n".join(lines) + "\n"
