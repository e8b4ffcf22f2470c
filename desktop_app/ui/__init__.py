"""Qt widgets. They hold no ML logic and never import TensorFlow at module level."""
