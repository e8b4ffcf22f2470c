"""The workflow's steps, in order, and the idea behind each in plain words.

The names double as keys (pages, menus, settings), so they stay English here; show them
through ``step_title``/``step_help``, which translate them.
"""

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication

CONTEXT = "Steps"
STEPS = (QT_TRANSLATE_NOOP("Steps", "Data"), QT_TRANSLATE_NOOP("Steps", "Augment"),
         QT_TRANSLATE_NOOP("Steps", "Model"), QT_TRANSLATE_NOOP("Steps", "Train"),
         QT_TRANSLATE_NOOP("Steps", "Evaluate"), QT_TRANSLATE_NOOP("Steps", "Export"))

# Plain words for "What is this?": the machine-learning idea behind each step.
STEP_HELP = {
    "Data": QT_TRANSLATE_NOOP(
        "Steps",
        "A classifier learns from examples. Each sub-folder of your dataset is one class, and its photos "
        "are the examples. Some photos are kept aside (validation) and never learned from: they show how "
        "well the model does on photos it has not seen, which is what matters in real use. More, and more "
        "varied, photos per class help more than anything else."),
    "Augment": QT_TRANSLATE_NOOP(
        "Steps",
        "Augmentation shows the model slightly changed copies of your photos while it learns: flipped, "
        "turned, zoomed. The model then cannot just memorise each photo and learns what the class really "
        "looks like. It happens only in training; the finished model sees photos as they are."),
    "Model": QT_TRANSLATE_NOOP(
        "Steps",
        "Transfer learning: instead of starting from nothing, we borrow a network (the base) that already "
        "learned to see shapes, textures and objects from millions of photos. We freeze it, add a small new "
        "head that turns what the base sees into your classes, and train only the head. Later, fine-tuning "
        "lets the top layers of the base adapt a little too."),
    "Train": QT_TRANSLATE_NOOP(
        "Steps",
        "Training shows the photos to the model again and again (each pass is an epoch) and nudges its "
        "numbers after every batch to make fewer mistakes. The loss measures the mistakes; accuracy counts "
        "right answers. If training accuracy keeps rising while validation accuracy falls, the model is "
        "memorising the photos (overfitting): stop, add augmentation or more photos."),
    "Evaluate": QT_TRANSLATE_NOOP(
        "Steps",
        "Evaluation tests the model on photos it did not learn from. The confusion matrix shows which "
        "classes it mixes up; per-class scores show where it is weak; the most-wrong photos often reveal "
        "mislabelled or unusual pictures."),
    "Export": QT_TRANSLATE_NOOP(
        "Steps",
        "Export saves the trained model so other programs can use it: the Keras file to continue in "
        "Python, SavedModel for servers, TensorFlow Lite for phones. The model includes its own "
        "preprocessing, so it takes ordinary photos."),
}


def step_title(name: str) -> str:
    """The step's name in the user's language."""
    return QCoreApplication.translate(CONTEXT, name)


def step_help(name: str) -> str:
    """The idea behind the step in the user's language ("" for an unknown step)."""
    return QCoreApplication.translate(CONTEXT, STEP_HELP[name]) if name in STEP_HELP else ""
