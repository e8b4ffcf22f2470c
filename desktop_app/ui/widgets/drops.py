"""What was dropped on a page or the window: a folder, or image files."""

from __future__ import annotations

from pathlib import Path


def dropped_paths(event) -> list[Path]:
    """The local files and folders in a drag or drop event."""
    mime = event.mimeData()
    if not mime.hasUrls():
        return []
    return [Path(url.toLocalFile()) for url in mime.urls() if url.isLocalFile()]


def dropped_folder(event) -> str | None:
    """The first folder in a drag or drop event, if any."""
    return next((str(p) for p in dropped_paths(event) if p.is_dir()), None)
