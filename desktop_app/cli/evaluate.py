"""``evaluate``, ``predict``, ``export`` and ``report``: the Evaluate and Export steps, headless."""

from __future__ import annotations

import json
import sys
from pathlib import Path


def _print_progress(event) -> None:
    from desktop_app.core.events import Progress

    if isinstance(event, Progress) and (event.done == event.total or event.done == 0):
        print(f"  {event.words}: {event.done}/{event.total}", file=sys.stderr, flush=True)


def _print_step(event, stream) -> None:
    """One line as each step starts: the export's own progress, without the converters' chatter."""
    from desktop_app.core.events import Progress

    if isinstance(event, Progress) and event.done < event.total and (event.done == 0 or event.detail):
        print(f"  {event.words}…", file=stream, flush=True)


def register(commands) -> None:
    from desktop_app.core.export.formats import FORMATS

    evaluate = commands.add_parser(
        "evaluate", help="accuracy, per-class scores and confusion matrix of a trained run",
        description="Runs the run's best model over its validation images (or over DATA).")
    evaluate.add_argument("run", metavar="RUN_DIR", help="a training run folder (with model.keras)")
    evaluate.add_argument("data", nargs="?", metavar="DATA",
                          help="evaluate on this folder instead (its test/ or val/ images if it has them)")
    evaluate.add_argument("--json", action="store_true", help="print the results as JSON")
    evaluate.add_argument("--data", dest="relocated", metavar="FOLDER",
                          help="where the run's dataset is now, if it was moved")
    evaluate.add_argument("--class-map", action="append", metavar="OLD=NEW",
                          help="the class the run knows as OLD is the folder NEW now (renamed)")
    evaluate.set_defaults(func=cmd_evaluate)

    predict = commands.add_parser("predict", help="the top classes of images, with a trained model")
    predict.add_argument("model", metavar="MODEL",
                         help="a run folder, a .keras file (labels.txt beside it), or an exported .tflite or .onnx "
                              "file (run in LiteRT / ONNX Runtime)")
    predict.add_argument("images", nargs="+", metavar="IMAGE", help="image files or folders of images")
    predict.add_argument("--top", type=int, default=3, metavar="K", help="how many classes to show (default 3)")
    predict.add_argument("--json", action="store_true", help="print the results as JSON")
    predict.add_argument("--csv", metavar="FILE", help="also save the predictions as a CSV file")
    predict.set_defaults(func=cmd_predict)

    export = commands.add_parser(
        "export", help="write the model as .keras / SavedModel / TFLite / ONNX with labels and a model card",
        description="Every file is run back on the run's validation photos (up to 500) and compared with the "
                    "trained model. The folder must be empty or new.")
    export.add_argument("run", metavar="RUN_DIR", help="a training run folder (with model.keras)")
    export.add_argument("--format", action="append", choices=FORMATS, dest="formats", metavar="FORMAT",
                        help=f"one of {', '.join(FORMATS)}; repeat for several (default: every one this "
                             "installation can write; onnx needs transfer-studio[onnx])")
    export.add_argument("--out", required=True, metavar="DIR", help="an empty or new folder for the files")
    export.add_argument("--replace", action="store_true",
                        help="move what --out holds to the trash once the new export is complete")
    export.add_argument("--verbose", action="store_true",
                        help="show the converters' own output (otherwise it goes to the log file)")
    export.set_defaults(func=cmd_export)

    report = commands.add_parser("report", help="write a self-contained HTML lab report about a run")
    report.add_argument("run", metavar="RUN_DIR", help="a training run folder (with model.keras)")
    report.add_argument("--out", metavar="FILE", help="where to write it (default RUN_DIR/report.html)")
    report.add_argument("--photos", action="store_true",
                        help="include example photos (off by default: photos may show people)")
    report.set_defaults(func=cmd_report)


def cmd_evaluate(args) -> int:
    from desktop_app.core.data.split import parse_class_map
    from desktop_app.core.results.evaluation import evaluate_run

    evaluation = evaluate_run(Path(args.run), args.data, report=_print_progress, relocated=args.relocated,
                              class_map=parse_class_map(args.class_map))
    for note in evaluation.notes:
        print(f"Note: {note}", file=sys.stderr)
    if args.json:
        print(json.dumps(evaluation.to_dict(include_images=False), indent=2))
        return 0
    print(f"Accuracy: {evaluation.accuracy:.1%} on {evaluation.source}")
    width = max(len(c) for c in evaluation.classes)
    print(f"  {'class':<{width}}  precision  recall     F1  images")
    for s in evaluation.per_class:
        print(f"  {s.name:<{width}}  {s.precision:9.2f}  {s.recall:6.2f}  {s.f1:5.2f}  {s.support:6d}")
    print("Confusion matrix (rows: true class, columns: predicted):")
    for name, row in zip(evaluation.classes, evaluation.confusion):
        print(f"  {name:<{width}}  " + " ".join(f"{v:4d}" for v in row))
    if evaluation.skipped:
        print(f"Left out {len(evaluation.skipped)} file(s) that would not decode.")
    return 0


def cmd_predict(args) -> int:
    from desktop_app.core.results.predict import predict_images

    result = predict_images(args.model, args.images, k=max(1, args.top))
    if args.csv:
        result.save_csv(Path(args.csv))
    if args.json:
        print(json.dumps([p.to_dict() for p in result.predictions], indent=2))
        return 0
    for p in result.predictions:
        answer = ", ".join(f"{c} {prob:.1%}" for c, prob in p.top) if p.top else f"(could not read: {p.error})"
        print(f"{p.path}: {answer}")
    return 0


def cmd_export(args) -> int:
    from desktop_app.core.export.exporter import export_run
    from desktop_app.core.export.formats import available_formats
    from desktop_app.core.logs import log_file, output_to_log

    # TensorFlow's own start-up lines and the converters' output go to the log file too.
    with output_to_log("the export", args.verbose) as terminal:
        result = export_run(Path(args.run), Path(args.out), args.formats or available_formats(),
                            report=lambda event: _print_step(event, terminal), replace=args.replace,
                            verbose=args.verbose)
    for check in result.checks:  # one line a file: what a student reads first
        print(f"{'FAILED' if not check.ok else 'CAREFUL' if check.caution else 'OK    '} {check.file}: {check.detail}")
    for note in result.notes:
        print(f"Note: {note}")
    print(result.summary())
    if not args.verbose:
        print(f"The converters' own messages are in {log_file()}.")
    return 0 if result.ok else 2


def cmd_report(args) -> int:
    from desktop_app.core.export.report import write_report

    path = write_report(Path(args.run), Path(args.out) if args.out else None, report=_print_progress,
                        photos=args.photos)
    print(f"Wrote the lab report: {path}")
    return 0
