"""``transfer-studio classes``: make, rename and delete classes and add photos, in a dataset folder.

The same operations as the Data page's buttons (``core.data.edits``); deleted classes go
straight to the system trash (there is no Undo on the command line).
"""

from __future__ import annotations


def register(commands) -> None:
    classes = commands.add_parser("classes", help="make, rename or delete a class, or add photos to one")
    actions = classes.add_subparsers(dest="action", metavar="ACTION", required=True)
    new = actions.add_parser("new", help="make an empty class folder (and the dataset folder if it is not there)")
    new.add_argument("data", metavar="DATA", help="the dataset folder")
    new.add_argument("name", metavar="NAME", help="the new class")
    rename = actions.add_parser("rename", help="rename a class; runs made before keep working")
    rename.add_argument("data", metavar="DATA", help="the dataset folder")
    rename.add_argument("old", metavar="OLD", help="the class's name now")
    rename.add_argument("new", metavar="NEW", help="its new name")
    delete = actions.add_parser("delete", help="move a class with its photos to the trash")
    delete.add_argument("data", metavar="DATA", help="the dataset folder")
    delete.add_argument("name", metavar="NAME", nargs="?", help="the class to delete")
    delete.add_argument("--captured", action="store_true",
                        help="instead of a class: every photo taken with the camera in this dataset")
    add = actions.add_parser("add", help="copy photos into a class")
    add.add_argument("data", metavar="DATA", help="the dataset folder")
    add.add_argument("name", metavar="NAME", help="the class to add them to")
    add.add_argument("files", metavar="FILE", nargs="+", help="image files (JPEG, PNG, BMP, GIF or WebP)")
    classes.set_defaults(func=cmd_classes)


def cmd_classes(args) -> int:
    import sys
    from pathlib import Path

    from desktop_app.core.data import edits
    from desktop_app.core.errors import UserError

    data = Path(args.data).expanduser()
    if args.action == "new":
        data.mkdir(parents=True, exist_ok=True)
        print(f"Made the class folder {edits.create_class(data, args.name)}")
        return 0
    if not data.is_dir():
        raise UserError(f"The folder {data} does not exist.")
    if args.action == "rename":
        new = edits.rename_class(data, args.old, args.new)
        print(f"Renamed {args.old} to {new}; runs made before know it by its new name.")
    elif args.action == "delete":
        if args.captured == bool(args.name):
            raise UserError("Name the class to delete, or use --captured for the photos taken with the camera.")
        deleted = (edits.delete_captured_photos(data, None) if args.captured
                   else edits.delete_class(data, args.name, None))
        print(f"Moved {deleted.what} to the trash." if deleted else "There are no photos taken with the camera.")
    else:
        result = edits.add_photos(data, args.name, [Path(f) for f in args.files])
        print(f"Added {len(result.added)} photo(s) to {args.name}.")
        if result.refused:
            print(result.refusal(), file=sys.stderr)
            return 1
    return 0
