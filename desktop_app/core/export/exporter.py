"""Export a run: every chosen format written, run back over the validation photos, and described.

The files go to a staging folder renamed into place at the end (``folder``), so an export
folder holds one whole export of one run. Converters talk a lot; what they print goes to
the log file unless ``verbose``.
"""

from __future__ import annotations

import errno
import functools
from collections.abc import Callable, Sequence
import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from desktop_app.core import crashpoints
from desktop_app.core.errors import UserError, first_line
from desktop_app.core.events import Progress, Step
from desktop_app.core.export import folder as export_folder
from desktop_app.core.export.card import CARD_JSON, CARD_MD, model_card, model_card_markdown
from desktop_app.core.export.check import FormatCheck, calibration_photos, check_photos, judge
from desktop_app.core.export.formats import (
    BY_KEY, FORMATS, READERS, WRITERS, ExportContext, available_formats, has_augmentation, inference_copy,
)
from desktop_app.core.fileio import write_json_atomic, write_text_atomic
from desktop_app.core.logs import output_to_log
from desktop_app.core.model.runtimes import ONNX_EXTRA, batched
from desktop_app.core.runs import RunFolder, write_labels

FOLDER_ERRORS = (errno.ENOSPC, errno.EACCES, errno.EROFS, errno.EDQUOT)  # the folder's fault, not the format's
COPY_NOTE = ("The files other than model.keras were made from a copy of the model without its data-augmentation "
             "block (same layers and weights): that block only changes photos while the model trains.")


@dataclass
class ExportResult:
    out_dir: Path
    checks: list[FormatCheck] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)  # labels and model card
    notes: list[str] = field(default_factory=list)
    photos: str = ""  # what the files were checked on: "430 validation photos"

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    def path(self, check: FormatCheck) -> Path:
        return self.out_dir / check.file

    def summary(self) -> str:
        good = sum(c.ok for c in self.checks)
        return (f"Exported {len(self.checks)} file(s) to {self.out_dir}; {good} of them passed their check on "
                f"{self.photos}.")


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _checked_formats(formats: Sequence[str] | None) -> list[str]:
    formats = available_formats() if formats is None else formats
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise UserError(f"Choose export formats from: {', '.join(FORMATS)}.")
    missing = [f for f in formats if f not in available_formats()]
    if missing:
        raise UserError(f"The {BY_KEY[missing[0]].title} export needs an optional part of the app: {ONNX_EXTRA}")
    return list(dict.fromkeys(formats))


def _one_format(key: str, ctx: ExportContext, photos, reference: np.ndarray, verbose: bool) -> FormatCheck:
    fmt = BY_KEY[key]
    target = ctx.folder / fmt.file
    try:
        with output_to_log(f"the {fmt.title} export", verbose):
            WRITERS[key](ctx, target)
            back = READERS[key](target, photos, ctx.classes)
    except OSError as e:
        if e.errno in FOLDER_ERRORS or (e.filename and ctx.folder in Path(e.filename).parents):
            raise UserError(f"Could not write the export ({e.strerror or e}); choose another folder.") from None
        return FormatCheck(key, fmt.title, fmt.file, False, f"Could not make this file: {first_line(e)}")
    except Exception as e:  # a converter that cannot handle this model (or a sentence): the others go on
        return FormatCheck(key, fmt.title, fmt.file, False, f"Could not make this file: {first_line(e)}")
    check = judge(key, fmt.title, fmt.file, photos, reference, back.probabilities, fmt.float_limit,
                  size_bytes=_size(target), runtime=back.runtime, tensors=back.tensors)
    return dataclasses.replace(check, detail=f"{check.detail} {back.extra}") if back.extra else check


def export_run(
    run_dir: Path,
    out_dir: Path,
    formats: Sequence[str] | None = None,
    report: Callable[[Progress], None] = lambda event: None,
    should_stop: Callable[[], bool] = lambda: False,
    replace: bool = False,
    verbose: bool = False,
) -> ExportResult | None:
    """Write the chosen formats (default: every one this installation can write), labels.txt and
    the model card into ``out_dir``, each file checked.

    ``out_dir`` must be empty or new unless ``replace``: then what it holds goes to the trash,
    once the new export is complete. Returns None when stopped (nothing is left behind).
    """
    from desktop_app.core.results.predict import load_predictor

    formats = _checked_formats(formats)
    run_dir, out_dir = Path(run_dir), Path(out_dir).expanduser().resolve()  # a link: where it points
    if not RunFolder(run_dir).has_model():
        raise UserError(f"There is no trained model in {run_dir}: choose a training run folder to export.")
    if out_dir == run_dir.resolve():
        raise UserError("Choose an export folder other than the run folder itself.")
    export_folder.refuse_mixing(out_dir, replace)
    steps = len(formats) + 3
    report(Progress(Step.LOADING_MODEL, 0, steps))
    predictor = load_predictor(run_dir)
    photos = check_photos(run_dir, predictor.img_size)
    report(Progress(Step.LOADING_MODEL, 1, steps))
    reference = batched(predictor.probabilities, photos.images)
    staging = export_folder.staging_folder(out_dir)
    try:
        result = _export(run_dir, staging, out_dir, predictor, photos, reference, formats, report, should_stop,
                         verbose, steps)
        if result is not None:
            note = export_folder.publish(staging, out_dir, replace)
            result.notes += [note] if note else []
        return result
    finally:
        export_folder.discard(staging)  # gone once published; after a stop or a failure, nothing stays


def _export(run_dir, staging, out_dir, predictor, photos, reference, formats, report, should_stop, verbose,
            steps) -> ExportResult | None:
    model = predictor.model
    ctx = ExportContext(
        model=model, inference=inference_copy(model) if has_augmentation(model) else model,
        model_file=predictor.path, classes=predictor.classes, img_size=predictor.img_size, folder=staging,
        calibration=functools.cache(lambda: calibration_photos(run_dir, predictor.img_size)), name=run_dir.name,
    )
    labels = write_labels(staging, predictor.classes)
    result = ExportResult(out_dir, photos=photos.words)
    for i, key in enumerate(formats, start=2):
        if should_stop():
            return None
        report(Progress(Step.EXPORTING, i, steps, BY_KEY[key].title))
        result.checks.append(_one_format(key, ctx, photos, reference, verbose))
        crashpoints.reached("export-file-written")
    if has_augmentation(model) and any(key != "keras" for key in formats):
        result.notes.append(COPY_NOTE)
    report(Progress(Step.WRITING_MODEL_CARD, steps - 1, steps))
    card = model_card(run_dir, predictor.classes, predictor.img_size, result)
    write_json_atomic(staging / CARD_JSON, card)
    write_text_atomic(staging / CARD_MD, model_card_markdown(card))
    result.files = [out_dir / labels.name, out_dir / CARD_MD, out_dir / CARD_JSON]
    report(Progress(Step.DONE, steps, steps))
    return result
