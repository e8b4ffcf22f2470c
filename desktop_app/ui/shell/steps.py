"""The workflow's steps, in order, and the idea behind each in plain words."""

STEPS = ("Data", "Augment", "Model", "Train", "Evaluate", "Export")

# Plain words for "What is this?": the machine-learning idea behind each step.
STEP_HELP = {
    "Data": (
        "A classifier learns from examples. Each sub-folder of your dataset is one class, and its photos "
        "are the examples. Some photos are kept aside (validation) and never learned from: they show how "
        "well the model does on photos it has not seen, which is what matters in real use. More, and more "
        "varied, photos per class help more than anything else."),
    "Augment": (
        "Augmentation shows the model slightly changed copies of your photos while it learns: flipped, "
        "turned, zoomed. The model then cannot just memorise each photo and learns what the class really "
        "looks like. It happens only in training; the finished model sees photos as they are."),
    "Model": (
        "Transfer learning: instead of starting from nothing, we borrow a network (the base) that already "
        "learned to see shapes, textures and objects from millions of photos. We freeze it, add a small new "
        "head that turns what the base sees into your classes, and train only the head. Later, fine-tuning "
        "lets the top layers of the base adapt a little too."),
    "Train": (
        "Training shows the photos to the model again and again (each pass is an epoch) and nudges its "
        "numbers after every batch to make fewer mistakes. The loss measures the mistakes; accuracy counts "
        "right answers. If training accuracy keeps rising while validation accuracy falls, the model is "
        "memorising the photos (overfitting): stop, add augmentation or more photos."),
    "Evaluate": (
        "Evaluation tests the model on photos it did not learn from. The confusion matrix shows which "
        "classes it mixes up; per-class scores show where it is weak; the most-wrong photos often reveal "
        "mislabelled or unusual pictures."),
    "Export": (
        "Export saves the trained model so other programs can use it: the Keras file to continue in "
        "Python, SavedModel for servers, TensorFlow Lite for phones. The model includes its own "
        "preprocessing, so it takes ordinary photos."),
}
