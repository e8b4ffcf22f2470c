"""The application core: plain Python, numpy, Pillow and (lazily) TensorFlow. No Qt."""
