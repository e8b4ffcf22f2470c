"""``transfer-studio scan``: what is in a dataset folder, and which files cannot be used."""

from __future__ import annotations

import json
import sys


def register(commands) -> None:
    scan = commands.add_parser("scan", help="list the classes of an image folder and check every image")
    scan.add_argument("data", metavar="DATA", help="folder with one sub-folder per class (or train/ and test/)")
    scan.add_argument("--json", action="store_true", help="print the result as JSON (for scripts)")
    scan.add_argument("--no-cache", action="store_true", help="check every image again, even if unchanged")
    scan.set_defaults(func=cmd_scan)


def scan_report(index) -> dict:
    """Everything ``scan`` prints, as plain data (the JSON output)."""
    problem = index.usability_problem()
    return {
        "root": str(index.root),
        "layout": index.layout,
        "classes": index.classes,
        "counts": index.counts(),
        "num_images": len(index.files),
        "bad_files": [
            {"path": str(b.path), "class": b.class_name, "split": b.split, "problem": b.problem, "reason": b.reason}
            for b in index.bad_files
        ],
        "converted": {str(p): list(n) for p, n in sorted(index.notes.items())},
        "warnings": index.warnings,
        "usable": problem is None,
        "problem": problem,
    }


def cmd_scan(args) -> int:
    from desktop_app.core.data.scan import scan_folder
    from desktop_app.core.errors import UserError
    from desktop_app.core.data.validate import ValidationProgress, validate_index

    try:
        index = scan_folder(args.data)
    except UserError as e:
        if not args.json:
            raise
        print(json.dumps({"root": args.data, "usable": False, "problem": str(e)}, indent=2))
        return 1
    show_progress = not args.json and sys.stderr.isatty()

    def report(event) -> None:
        if show_progress and isinstance(event, ValidationProgress):
            print(f"\r{event.text}", end="", file=sys.stderr, flush=True)

    index = validate_index(index, report=report, use_cache=not args.no_cache)
    if show_progress:
        print(file=sys.stderr)
    data = scan_report(index)
    if args.json:
        print(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        print(_as_text(index, data))
    return 0 if data["usable"] else 1


def _as_text(index, data: dict) -> str:
    counts = data["counts"]
    splits = [s for s in ("pool", "train", "val", "test") if s in counts]
    titles = {"pool": "images", "train": "train", "val": "val", "test": "test"}
    width = max([len(c) for c in index.classes] + [5])
    lines = [f"{index.root}: {len(index.classes)} classes, {len(index.files):,} usable images ({index.layout})", ""]
    lines.append(f"  {'class':<{width}}" + "".join(f"{titles[s]:>9}" for s in splits))
    for name in index.classes:
        lines.append(f"  {name:<{width}}" + "".join(f"{counts[s][name]:>9,}" for s in splits))
    if index.notes:
        lines.append(f"\n{len(index.notes)} odd image(s) will be converted when loaded (grayscale, CMYK, rotated...).")
    if index.bad_files:
        lines.append(f"\n{len(index.bad_files)} file(s) cannot be used and are left out:")
        for b in index.bad_files:
            rel = b.path.relative_to(index.root) if b.path.is_relative_to(index.root) else b.path
            lines.append(f"  {rel}: {b.reason}")
    for warning in index.warnings:
        lines.append(f"\nWarning: {warning}")
    if data["problem"]:
        lines.append(f"\nError: {data['problem']}")
    return "\n".join(lines)
