"""The Augment step: the augmentation settings, the Keras layers made from them, the preview."""
