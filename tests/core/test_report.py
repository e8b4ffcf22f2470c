"""The lab report of a demo-dataset run: one self-contained HTML file with every section, photos
only when asked."""

from __future__ import annotations

import base64
import io
import json
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
from PIL import Image

from desktop_app.core.export.report import (
    EXAMPLES_PER_CLASS,
    SECTIONS,
    confusion_html,
    write_report,
)
from desktop_app.core.runs import RunFolder


class Collector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.sections: list[str] = []
        self.images: list[str] = []
        self.section_images: dict[str, int] = {}  # section -> how many pictures it shows
        self.metas: list[dict] = []
        self.ids: list[str] = []
        self.links: list[str] = []
        self.tags: dict[str, int] = {}
        self.classes: list[str] = []
        self.text: list[str] = []
        self.tables: dict[str, list[list[str]]] = {}  # section -> rows of cell texts (first table)
        self._cell: list[str] | None = None

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            rows = self.tables.setdefault(self.sections[-1], [])
            rows[-1].append("".join(self._cell).strip())
            self._cell = None
        if tag == "table" and self.sections:
            self.tables.setdefault(self.sections[-1] + ":done", [])

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags[tag] = self.tags.get(tag, 0) + 1
        in_first_table = self.sections and f"{self.sections[-1]}:done" not in self.tables
        if tag == "tr" and in_first_table:
            self.tables.setdefault(self.sections[-1], []).append([])
        if tag in ("td", "th") and in_first_table:
            self._cell = []
        if tag == "section":
            self.sections.append(attrs.get("id"))
        if tag == "img":
            self.images.append(attrs.get("src", ""))
            self.section_images[self.sections[-1]] = self.section_images.get(self.sections[-1], 0) + 1
        if tag == "meta":
            self.metas.append(attrs)
        if attrs.get("id"):
            self.ids.append(attrs["id"])
        for key in ("href", "src"):
            if key in attrs and tag != "img":
                self.links.append(attrs[key])
        if attrs.get("class"):
            self.classes.append(attrs["class"])

    def handle_data(self, data):
        self.text.append(data)
        if self._cell is not None:
            self._cell.append(data)


def parsed(path) -> tuple[Collector, str]:
    parser = Collector()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser, " ".join(parser.text)


def test_report_has_every_section_and_embeds_its_pictures(trained_run, tmp_path):
    folder = tmp_path / "out"  # (tmp_path also holds this test's private data folder)
    folder.mkdir()
    out = write_report(trained_run, folder / "report.html", photos=True)
    assert out == folder / "report.html" and list(folder.iterdir()) == [out]  # one file, nothing beside it
    parser = Collector()
    parser.feed(out.read_text(encoding="utf-8"))
    text = " ".join(parser.text)

    assert parser.sections == list(SECTIONS)
    assert parser.links == []  # nothing fetched from elsewhere
    assert parser.images and all(src.startswith("data:image/png;base64,") for src in parser.images)
    for src in parser.images:
        Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1]))).verify()
    assert parser.tags["svg"] == 3  # class chart, loss curves, accuracy curves
    assert "phase-marker" in parser.classes  # the run was fine-tuned: the curves mark where
    assert "cm" in parser.classes  # the confusion matrix
    # dataset, augmentation, model (top level, totals per phase), per-class, most-wrong
    for words in ("circles", "triangles", "Flip: mirrored left-right", "base_model", "feature extraction (base frozen)",
                  "fine-tuning (top 5 layers of the base unfrozen)", "precision", "recall",
                  "average (macro)"):
        assert words in text, words
    assert "Augmentation examples" in out.read_text()
    gallery = "gallery" in parser.classes or "No wrong answers" in text
    assert gallery
    # Example photos: some of each class, up to three.
    classes = RunFolder(trained_run).read_metrics()["classes"]
    assert len(classes) <= parser.section_images["photos"] <= EXAMPLES_PER_CLASS * len(classes)


def test_by_default_the_report_holds_no_photos(trained_run, tmp_path):
    from desktop_app.core.engine import ReportRequest

    out = ReportRequest(trained_run, tmp_path / "report.html").run(lambda event: None, lambda: False)
    html_text = out.read_text(encoding="utf-8")
    parser, text = parsed(out)
    assert parser.sections == list(SECTIONS)
    assert parser.images == [] and "data:image" not in html_text and "Augmentation examples" not in html_text
    assert "photos may show people" in text
    # The most-wrong photos are named: file name, true class, predicted class.
    wrong = json.loads(RunFolder(trained_run).evaluation_path.read_text())["most_wrong"]
    if wrong:
        header, *rows = parser.tables["most-wrong"]
        assert header == ["photo (file name)", "true class", "predicted", "how sure"]
        assert [row[:3] for row in rows] == [[Path(w["path"]).name, w["true"], w["predicted"]] for w in wrong]
    # Asked for through the engine, it shows them.
    out = ReportRequest(trained_run, tmp_path / "photos.html", photos=True).run(lambda event: None, lambda: False)
    assert parsed(out)[0].section_images["photos"] > 0


def test_the_training_settings_of_each_phase(trained_run, tmp_path):
    run = RunFolder(trained_run).info()
    t = run.config.training
    parser, _ = parsed(write_report(trained_run, tmp_path / "report.html"))
    header, *rows = parser.tables["training"]
    assert header == ["setting", "feature extraction (base frozen)",
                      f"fine-tuning (top {t.unfreeze_layers} layers of the base unfrozen)"]
    settings = {row[0].split(" (")[0]: row[1:] for row in rows}
    epochs = {phase: [r["epoch"] for r in run.history if r["phase"] == phase]
              for phase in ("feature_extraction", "fine_tuning")}
    assert epochs["feature_extraction"] == [1, 2] and epochs["fine_tuning"] == [3]  # as tests/trained_run.py made it
    assert settings["epochs"] == ["1 to 2 (planned: 1 to 2)", "3 (planned: 3)"]
    assert settings["learning rate"] == [f"{t.learning_rate:g}", f"{t.fine_tune_lr:g}"] == ["0.01", "0.001"]
    assert settings["batch size"] == ["8", "8"] and settings["optimizer"] == [t.optimizer] * 2
    assert settings["label smoothing"] == ["off", "off"]
    assert settings["fast mode"] == ["yes" if t.fast else "no", "no"]
    assert settings["image size"] == ["64×64 pixels"] * 2
    assert settings["training photos used"] == ["100 %"] * 2


def test_confusion_cells_use_the_colour_blind_safe_sequential_map():
    from desktop_app.core.palette import sequential

    html_text = confusion_html(np.array([[3, 0], [1, 2]]), ["a", "b"])
    assert f"background:{sequential(1.0)}" in html_text and f"background:{sequential(0.0)}" in html_text
    assert f"background:{sequential(1 / 3)}" in html_text


def test_the_reports_numbers_are_the_evaluations_and_the_runs(trained_run, tmp_path):
    out = write_report(trained_run, tmp_path / "report.html")
    run = RunFolder(trained_run)
    saved = json.loads(run.evaluation_path.read_text())
    metrics = run.read_metrics()
    parser = Collector()
    parser.feed(out.read_text(encoding="utf-8"))
    text = " ".join(parser.text)

    assert f"Accuracy {saved['accuracy']:.1%}" in text
    # Beside it, what needs no learning: guessing, and always answering the largest class.
    largest = max(scores["support"] for scores in saved["per_class"]) / saved["images"]
    assert (f"(guessing would get {1 / len(saved['classes']):.0%} with {len(saved['classes'])} classes; always "
            f"answering the largest class would get {largest:.0%})") in text
    assert f"best validation accuracy during training {metrics['best_val_accuracy']:.1%}" in text
    # The confusion matrix, cell by cell.
    header, *rows = parser.tables["confusion"]
    assert header[1:] == saved["classes"]
    assert [[int(c) for c in row[1:]] for row in rows] == saved["confusion_matrix"]
    # Precision, recall, F1 and photos per class.
    header, *rows = parser.tables["per-class"]
    for row, scores in zip(rows, saved["per_class"]):
        assert row == [scores["class"], f"{scores['precision']:.2f}", f"{scores['recall']:.2f}",
                       f"{scores['f1']:.2f}", str(scores["support"])]
    assert rows[-1][0] == "average (macro)" and rows[-1][-1] == str(saved["images"])
    assert rows[-1][1:4] == [f"{saved['macro_average'][k]:.2f}" for k in ("precision", "recall", "f1")]
    # The photos per class and split, as the run recorded them.
    header, *rows = parser.tables["dataset"]
    for row in rows[:-1]:
        name = row[0]
        assert [int(row[1]), int(row[2])] == [metrics["train_images_per_class"][name],
                                              metrics["val_images_per_class"][name]]
    assert int(rows[-1][2]) == metrics["num_val_images"] == saved["images"]


def test_the_report_says_which_versions_made_it_and_fits_a_phone(trained_run, tmp_path):
    from desktop_app.core.export.report import _versions_footer
    from desktop_app.core.versions import library_versions, versions_words

    out = write_report(trained_run, tmp_path / "report.html")
    parser, text = parsed(out)
    trained = RunFolder(trained_run).read_metrics()["versions"]  # recorded by the training job
    assert "versions" in parser.ids
    assert trained == library_versions()  # trained here, just now
    assert f"Trained with {versions_words(trained)}." in text and "Report written with the same versions." in text
    older = _versions_footer({})  # a run from before runs recorded them
    assert "Trained with" not in older and f"Report written with {versions_words(library_versions())}." in older
    # On a phone: the page is as wide as the screen, and charts and tables shrink or scroll.
    assert {"name": "viewport", "content": "width=device-width, initial-scale=1"} in parser.metas
    html_text = out.read_text(encoding="utf-8")
    assert "svg, img { max-width: 100%; height: auto; }" in html_text and "overflow-x: auto" in html_text
    assert html_text.count("viewBox=") == parser.tags["svg"]  # so a narrowed chart scales, not crops
