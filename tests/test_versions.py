"""The tested range, the lock CI installs and the lower-bound lock agree with each other."""

from __future__ import annotations

import tomllib
from importlib import metadata
from pathlib import Path

from packaging.markers import Marker
from packaging.requirements import Requirement

REPO = Path(__file__).resolve().parents[1]
BOUNDED = ("tensorflow", "keras", "ai-edge-litert", "tf2onnx", "onnx", "onnxruntime", "pyside6-essentials",
           "pyside6-addons")


def declared() -> dict[str, Requirement]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    lines = project["dependencies"] + [r for extra in project["optional-dependencies"].values() for r in extra]
    found = {}
    for line in lines:
        requirement = Requirement(line)
        if requirement.name != "transfer-studio":
            found[requirement.name.lower().replace("_", "-")] = requirement
    return found


def pins(lock: str) -> dict[str, str]:
    """name -> version of the pins that apply to Linux x86_64 with this Python."""
    found = {}
    for line in (REPO / "requirements" / lock).read_text().splitlines():
        if not line or line.startswith((" ", "#")):
            continue
        spec, _, marker = line.partition(";")
        if marker.strip() and not Marker(marker.strip()).evaluate({"sys_platform": "linux",
                                                                    "platform_machine": "x86_64"}):
            continue
        name, _, version = spec.strip().partition("==")
        found[name.lower()] = version
    return found


def test_every_direct_dependency_has_an_upper_bound_and_the_locks_stay_inside_the_range():
    requirements = declared()
    for name in BOUNDED:  # what makes, converts and runs the models: it broke between minor versions
        assert any(s.operator == "<" for s in requirements[name].specifier), f"{name} has no upper bound"
    for lock in ("lock.txt", "lower-bounds.txt"):
        pinned = pins(lock)
        for name, requirement in requirements.items():
            if requirement.marker is None or requirement.marker.evaluate({"sys_platform": "linux",
                                                                           "platform_machine": "x86_64"}):
                assert name in pinned, f"{lock} lacks {name}"
                assert requirement.specifier.contains(pinned[name], prereleases=True), (lock, name, pinned[name])


def test_the_lower_bound_lock_holds_the_lower_bounds_of_tensorflow_and_keras():
    lowest = pins("lower-bounds.txt")
    hints = pins("lowest-pair.txt")
    for name in ("tensorflow", "keras"):
        lower = next(s.version for s in declared()[name].specifier if s.operator == ">=")
        assert lowest[name] == hints[name]
        assert tuple(map(int, lowest[name].split("."))) == tuple(map(int, (lower + ".0.0").split(".")[:3]))


def test_the_suite_runs_on_the_tested_tensorflow_and_keras():
    for name in ("tensorflow", "keras"):
        assert declared()[name].specifier.contains(metadata.version(name))
