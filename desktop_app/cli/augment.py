"""``transfer-studio augment-preview``: the Augment page's grid, written to a file."""

from __future__ import annotations

from pathlib import Path

from desktop_app.core.errors import UserError


def register(commands) -> None:
    from desktop_app.core.augment.preview import N_VARIANTS, PREVIEW_SIZE
    from desktop_app.core.augment.spec import PRESETS

    preview = commands.add_parser(
        "augment-preview",
        help="write a grid of augmented versions of one image, as the Augment page shows it",
    )
    preview.add_argument("image", metavar="IMAGE", help="the photo to augment")
    preview.add_argument("--out", required=True, metavar="GRID_PNG", help="where to write the grid picture")
    augment = preview.add_mutually_exclusive_group()
    augment.add_argument("--augment", choices=PRESETS, default="light", help="data-augmentation preset (default light)")
    augment.add_argument("--augment-json", metavar="FILE", help="data-augmentation settings saved as JSON")
    preview.add_argument("--seed", type=int, default=0, help="random seed: same seed, same grid (default 0)")
    preview.add_argument("--count", type=int, default=N_VARIANTS, help=f"augmented versions (default {N_VARIANTS})")
    preview.add_argument("--img-size", type=int, default=PREVIEW_SIZE,
                         help=f"images are resized to this many pixels square (default {PREVIEW_SIZE})")
    preview.set_defaults(func=cmd_augment_preview, no_augment=False)


def cmd_augment_preview(args) -> int:
    from desktop_app.cli.train import augmentation_from_args
    from desktop_app.core.augment.preview import grid_image, load_preview_image, render_preview

    if args.count < 1 or args.img_size < 8:
        raise UserError("--count must be at least 1 and --img-size at least 8.")
    spec = augmentation_from_args(args)
    # Read the image before TensorFlow loads: a typo answers at once.
    image = load_preview_image(args.image, args.img_size)
    preview = render_preview(image, spec, seed=args.seed, n=args.count)
    out = Path(args.out).expanduser()
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        grid_image(preview).save(out)
    except (OSError, ValueError) as e:
        raise UserError(f"Could not write {out}: {e}") from None
    for line in spec.describe():
        print(line)
    print(f"Wrote {out} ({preview.seconds:.2f} s for {len(preview.variants)} versions, seed {args.seed})")
    return 0
