"""``transfer-studio summary`` and ``transfer-studio weights``: the Model step, headless."""

from __future__ import annotations

import sys
from pathlib import Path


def register(commands) -> None:
    from desktop_app.core.model.backbones import BACKBONES, DEFAULT_BACKBONE

    names = ", ".join(BACKBONES)
    summary = commands.add_parser("summary", help="print the model as a tree of layers with parameter counts")
    summary.add_argument("--base", default=DEFAULT_BACKBONE, choices=sorted(BACKBONES), metavar="NAME",
                         help=f"pretrained base model: {names} (default {DEFAULT_BACKBONE})")
    summary.add_argument("--alpha", type=float, help="width of a MobileNet base (e.g. 0.25, 0.5, 0.75, 1.0)")
    summary.add_argument("--classes", type=int, default=10, metavar="N", help="number of classes (default 10)")
    summary.add_argument("--img-size", type=int, help="input size in pixels (default: the base's own)")
    summary.add_argument("--unfreeze", type=int, default=0, metavar="K",
                         help="unfreeze the top K layers of the base, as fine-tuning does (BatchNorm stays frozen)")
    summary.set_defaults(func=cmd_summary)

    weights = commands.add_parser("weights", help="list, import or download pretrained ImageNet weights")
    actions = weights.add_subparsers(dest="action", metavar="ACTION", required=True)
    actions.add_parser("list", help="show which bases have their weights in Keras' cache").set_defaults(
        func=cmd_weights_list)
    imp = actions.add_parser("import", help="find out which base a weights file is for, check it and copy it "
                                            "into Keras' cache (one file serves every image size)")
    imp.add_argument("file", metavar="FILE", help="a Keras .h5 weights file, e.g. mobilenet_2_5_224_tf_no_top.h5")
    imp.add_argument("--base", choices=sorted(BACKBONES), metavar="NAME",
                     help=f"refuse the file unless it is for this base: {names} (default: any)")
    imp.add_argument("--alpha", type=float, help="with --base: refuse the file unless it is for this width")
    imp.set_defaults(func=cmd_weights_import)
    down = actions.add_parser("download", help="download a base's ImageNet weights into Keras' cache")
    down.add_argument("name", choices=sorted(BACKBONES), metavar="NAME", help=f"one of: {names}")
    down.add_argument("--alpha", type=float, help="width of a MobileNet base")
    down.add_argument("--img-size", type=int, help="input size (MobileNets have one file per size)")
    down.add_argument("--timeout", type=float, default=20.0, help="give up after this many seconds without an answer")
    down.set_defaults(func=cmd_weights_download)


def cmd_summary(args) -> int:
    from desktop_app.core.model.backbones import get_backbone
    from desktop_app.core.errors import UserError

    backbone = get_backbone(args.base)
    size = args.img_size or backbone.default_size
    backbone.check(backbone.resolve_alpha(args.alpha), size)  # answer typos before TensorFlow loads
    if args.classes < 2:
        raise UserError("A classifier needs at least 2 classes.")

    from desktop_app.core.model.builder import build_classifier, summarize, unfreeze_top
    from desktop_app.core.session import ModelSettings

    # Counts do not depend on the weights' values, so random weights keep this offline.
    model = build_classifier(ModelSettings(args.base, args.alpha, size, weights=None), args.classes)
    if args.unfreeze:
        unfreeze_top(model, args.unfreeze)
    sys.stdout.write(summarize(model).to_text())
    return 0


def _size(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n else ""


def cmd_weights_list(args) -> int:
    from desktop_app.core.model.weights import cache_dir, list_weights

    rows = [(w.backbone if w.alpha is None else f"{w.backbone} --alpha {w.alpha:g}",
             "cached" if w.cached else "missing", _size(w.size_bytes), w.file_name) for w in list_weights()]
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    print(f"ImageNet weights in {cache_dir()}:")
    for row in rows:
        print(f"  {row[0]:<{widths[0]}}  {row[1]:<{widths[1]}}  {row[2]:>{widths[2]}}  {row[3]}")
    return 0


def cmd_weights_import(args) -> int:
    from desktop_app.core.model.weights import import_weights

    info = import_weights(Path(args.file), args.base, args.alpha)
    flags = f"--base {info.backbone}" + ("" if info.alpha is None else f" --alpha {info.alpha:g}")
    print(f"Imported: this file is {info.described}. Its ImageNet weights are now in {info.path} "
          f"and serve every image size; train with {flags}.")
    return 0


def cmd_weights_download(args) -> int:
    from desktop_app.core.model.weights import download, weights_info

    info = weights_info(args.name, args.alpha, args.img_size)
    if info.cached:
        print(f"Already downloaded: {info.local}")
        return 0
    print(f"Downloading {info.url}", flush=True)
    last = [-1]

    def show(progress) -> None:
        if progress.fraction is not None and int(progress.fraction * 10) != last[0]:
            last[0] = int(progress.fraction * 10)
            print(f"  {progress.fraction:4.0%} of {progress.total_bytes / 1e6:.1f} MB", flush=True)

    path = download(args.name, args.alpha, args.img_size, report=show, timeout=args.timeout)
    print(f"Saved {path}")
    return 0
