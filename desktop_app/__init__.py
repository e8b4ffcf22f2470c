"""Transfer Studio: transfer learning for image classification, without programming."""

import os

__version__ = "0.1.0"
APP_NAME = "Transfer Studio"

# TensorFlow's C++ start-up chatter (CUDA probing, oneDNN notes) means nothing to a
# student; keep warnings and errors. Set before anything imports TensorFlow.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
