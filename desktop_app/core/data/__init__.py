"""The Data step: list a folder, check its images, split it, feed them to TensorFlow, the demo dataset."""
