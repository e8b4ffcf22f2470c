"""The versions of the libraries that make and read a model, for model cards, reports and runs.

Read from the installed distributions' metadata, so asking imports neither TensorFlow
nor any converter.
"""

from __future__ import annotations

import platform
from importlib import metadata

from desktop_app import __version__

# What shapes a trained or exported model: the app, the framework, and the runtimes and
# converters an export goes through (those not installed are left out).
LIBRARIES = ("tensorflow", "keras", "numpy", "ai-edge-litert", "tf2onnx", "onnx", "onnxruntime")


def installed_version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def library_versions() -> dict[str, str]:
    """``{"transfer-studio": "0.1.0", "python": "3.11.7", "tensorflow": "2.21.0", ...}``."""
    found = {"transfer-studio": __version__, "python": platform.python_version()}
    for name in LIBRARIES:
        version = installed_version(name)
        if version:
            found[name] = version
    return found


def versions_words(versions: dict[str, str]) -> str:
    """"Transfer Studio 0.1.0, Python 3.11.7, TensorFlow 2.21.0, Keras 3.15.1, …"."""
    titles = {"transfer-studio": "Transfer Studio", "python": "Python", "tensorflow": "TensorFlow", "keras": "Keras",
              "numpy": "NumPy", "ai-edge-litert": "LiteRT", "tf2onnx": "tf2onnx", "onnx": "ONNX",
              "onnxruntime": "ONNX Runtime"}
    return ", ".join(f"{titles.get(name, name)} {version}" for name, version in versions.items())
