"""Which Debian/Ubuntu package ships a shared library, for sentences that say what to install
when Qt or QtMultimedia cannot load one."""

from __future__ import annotations

import re

# Libraries whose Debian package name does not follow the usual soname rule.
PACKAGE_OF = {
    "libGL.so.1": "libgl1",
    "libEGL.so.1": "libegl1",
    "libOpenGL.so.0": "libopengl0",
    "libglib-2.0.so.0": "libglib2.0-0",
    "libgthread-2.0.so.0": "libglib2.0-0",
    "libfreetype.so.6": "libfreetype6",
}


def debian_package(soname: str) -> str:
    """The package that ships ``soname`` by Debian's naming rule: libfoo.so.1 -> libfoo1."""
    if soname in PACKAGE_OF:
        return PACKAGE_OF[soname]
    match = re.fullmatch(r"(.+?)\.so\.(\d+)(?:\..*)?", soname)
    if match is None:
        return soname
    name, version = match.groups()
    joiner = "-" if name[-1].isdigit() else ""  # libdbus-1.so.3 -> libdbus-1-3
    return f"{name}{joiner}{version}".lower()
