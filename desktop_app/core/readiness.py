"""Is this computer ready for a lesson? One finding, and what to do about it, per topic.

Each check is a plain function of what it looks at, so the window's "Check this
computer for class" and any script ask the same questions in the same words.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from desktop_app.core.session import ModelSettings

MB = 1024 * 1024
# A run keeps a best and a last whole model, a staging copy and its stored embeddings.
RUN_COPIES = 4
RUN_EXTRA_BYTES = 200 * MB
UNKNOWN_BASE_BYTES = 100 * MB  # when the weights are not here to measure


@dataclass(frozen=True)
class Check:
    topic: str
    ready: bool | None  # None: cannot tell yet (still starting)
    finding: str  # what is true now, in one sentence
    advice: str = ""  # what to do about it; empty when nothing needs doing
    applies: bool = True  # False: this version or this set-up does not use it


def weights_check(model: ModelSettings) -> Check:
    from desktop_app.core.model.weights import weights_info

    topic = "Pretrained weights"
    if model.weights is None:
        return Check(topic, False, "The model is set to start without pretrained weights, so results stay near "
                     "guessing.", "On the Model page choose ImageNet weights.")
    if model.weights != "imagenet":
        here = Path(model.weights).is_file()
        return Check(topic, here, f"The model uses the weights file {Path(model.weights).name}"
                     + (", which is here." if here else ", which is missing."),
                     "" if here else "Import the file again on the Model page.")
    info = weights_info(model.backbone, model.alpha, model.img_size)
    if info.cached:
        return Check(topic, True, f"The ImageNet weights for {info.title} are on this computer.")
    return Check(topic, False, f"The ImageNet weights for {info.title} are not on this computer yet.",
                 "Download them on the Model page while you have internet, or import the file "
                 f"{info.file_name} from a USB stick.")


def run_size_estimate(model: ModelSettings) -> int:
    from desktop_app.core.model.weights import weights_info

    info = weights_info(model.backbone, model.alpha, model.img_size)
    base = info.size_bytes if info.cached else UNKNOWN_BASE_BYTES
    return RUN_COPIES * base + RUN_EXTRA_BYTES


def disk_check(folder: Path, need_bytes: int) -> Check:
    topic = "Disk space"
    existing = next((p for p in [Path(folder), *Path(folder).parents] if p.exists()), None)
    if existing is None:
        return Check(topic, None, f"The folder for runs ({folder}) cannot be found.")
    free = shutil.disk_usage(existing).free
    finding = (f"{_size(free)} free where runs are saved; a run of this model needs about "
               f"{_size(need_bytes)}.")
    if free >= need_bytes:
        return Check(topic, True, finding)
    return Check(topic, False, finding, "Delete old runs or projects, or save the project on a disk with more room.")


def dataset_check(folder: Path | None, index) -> Check:
    """``folder``: the chosen dataset (None: the demo dataset); ``index``: its checked DatasetIndex, None
    while it is being checked or when it could not be read."""
    topic = "Photos"
    name = "the demo dataset" if folder is None else Path(folder).name
    if index is None:
        return Check(topic, None, f"The photos in {name} are being checked, or could not be read.",
                     "Look at the Data page: it says which.")
    usable = index.usability_problem()
    if usable:
        return Check(topic, False, usable, "Add photos to the class folders, then choose the folder again.")
    totals = index.class_totals()
    return Check(topic, True, f"{sum(totals.values())} usable photos in {len(totals)} classes in {name}.")


def engine_check(warm: bool, alive: bool = True) -> Check:
    topic = "TensorFlow"
    if warm:
        return Check(topic, True, "TensorFlow is loaded and ready; previews and training start at once.")
    if not alive:
        return Check(topic, False, "The part of the app that runs TensorFlow is not running.",
                     "Close the app and open it again; if this stays, the log file says why (Help menu).")
    return Check(topic, None, "TensorFlow is still loading (up to a minute the first time after the computer "
                 "starts).", "Open the app a few minutes before the lesson.")


def _size(n: int) -> str:
    return f"{n / 1024 ** 3:.1f} GB" if n >= 1024 ** 3 else f"{n / MB:.0f} MB"
