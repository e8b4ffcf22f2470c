"""Train right after a capture: a base whose weights are here, and the Quick experiment.

A teacher who has just captured photos presses Train and wants a model that names them
live, now, without visiting the Model and Train pages. MobileNetV2 at 224 px is fast
enough live on a 2-core laptop and accurate enough; when its ImageNet weights are not on
this computer, the best base whose weights are takes its place (never a download in
front of a class). The pages keep every setting for those who want to change them.
No TensorFlow, no Qt.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from desktop_app.core.model.backbones import choose_base
from desktop_app.core.model.weights import weights_info
from desktop_app.core.session import FIELD_SECTIONS, QUICK_EXPERIMENT, Session

QUICK_IMG_SIZE = 224
# Best first: fast enough for live prediction on a laptop, then as accurate as can be.
PREFERRED_BASES: tuple[tuple[str, float | None], ...] = (
    ("mobilenet_v2", 1.0),
    ("mobilenet_v3_large", 1.0), ("efficientnet_v2_b0", None), ("efficientnet_b0", None),
    ("mobilenet_v2", 1.4), ("mobilenet_v2", 1.3), ("mobilenet_v2", 0.75), ("mobilenet_v3_large", 0.75),
    ("mobilenet_v2", 0.5), ("mobilenet_v3_small", 1.0), ("mobilenet", 1.0), ("mobilenet_v2", 0.35),
    ("mobilenet_v3_small", 0.75), ("mobilenet", 0.75), ("mobilenet", 0.5), ("mobilenet", 0.25),
    # Slow live on a laptop, but better than no pretrained base at all.
    ("efficientnet_v2_b1", None), ("resnet50_v2", None), ("efficientnet_v2_b2", None),
    ("convnext_tiny", None), ("efficientnet_v2_b3", None),
)
# The Quick experiment trains on 10 % of a big folder; a capture is a few dozen photos per
# class, so every one of them counts. Fine-tuning stays off: with the base frozen, the
# embedding store makes a second press after more photos take seconds.
QUICK_START_CHANGES: dict = {**QUICK_EXPERIMENT, "subset_percent": 100.0, "fine_tune": False}


@dataclass(frozen=True)
class QuickStart:
    backbone: str
    alpha: float | None
    weights_here: bool  # False: nothing usable is cached; training would have to download
    sentence: str  # which base, and why, for the Train page

    def apply(self, session: Session) -> None:
        """Put the session on this base (ImageNet weights, 224 px) and the quick settings."""
        choose_base(session, self.backbone, self.alpha)
        session.model = replace(session.model, img_size=QUICK_IMG_SIZE, weights="imagenet")
        for name, value in QUICK_START_CHANGES.items():
            session.update(FIELD_SECTIONS[name], **{name: value})


def choose_quick_start() -> QuickStart:
    """MobileNetV2 when its ImageNet weights are here, else the best base whose weights are."""
    for backbone, alpha in PREFERRED_BASES:
        info = weights_info(backbone, alpha, QUICK_IMG_SIZE)
        if not info.cached:
            continue
        if (backbone, alpha) == PREFERRED_BASES[0]:
            sentence = (f"Training {info.title} at {QUICK_IMG_SIZE} px, Quick experiment settings: fast enough to "
                        "name what the camera sees live.")
        else:
            target = weights_info(*PREFERRED_BASES[0], QUICK_IMG_SIZE)
            sentence = (f"Training {info.title} at {QUICK_IMG_SIZE} px, Quick experiment settings: the best base "
                        f"whose weights are on this computer ({target.label}'s, the usual choice, are not).")
        return QuickStart(backbone, alpha, True, sentence)
    target = weights_info(*PREFERRED_BASES[0], QUICK_IMG_SIZE)
    return QuickStart(target.backbone, target.alpha, False,
                      f"No pretrained weights are on this computer yet. Download those of {target.title} on the "
                      f"Model page while you have internet, or import the file {target.file_name} from a USB "
                      "stick; then train again.")
