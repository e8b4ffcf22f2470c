"""The lab report of a demo-dataset run: one self-contained HTML file with every section."""

from __future__ import annotations

import base64
import io
import json
from html.parser import HTMLParser

import numpy as np
from PIL import Image

from desktop_app.core.export.report import SECTIONS, confusion_html, write_report


class Collector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.sections: list[str] = []
        self.images: list[str] = []
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
        for key in ("href", "src"):
            if key in attrs and tag != "img":
                self.links.append(attrs[key])
        if attrs.get("class"):
            self.classes.append(attrs["class"])

    def handle_data(self, data):
        self.text.append(data)
        if self._cell is not None:
            self._cell.append(data)


def test_report_has_every_section_and_embeds_its_pictures(trained_run, tmp_path):
    folder = tmp_path / "out"  # (tmp_path also holds this test's private data folder)
    folder.mkdir()
    out = write_report(trained_run, folder / "report.html")
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


def test_confusion_cells_use_the_colour_blind_safe_sequential_map():
    from desktop_app.core.palette import sequential

    html_text = confusion_html(np.array([[3, 0], [1, 2]]), ["a", "b"])
    assert f"background:{sequential(1.0)}" in html_text and f"background:{sequential(0.0)}" in html_text
    assert f"background:{sequential(1 / 3)}" in html_text


def test_the_reports_numbers_are_the_evaluations_and_the_runs(trained_run, tmp_path):
    from desktop_app.core.runs import RunFolder

    out = write_report(trained_run, tmp_path / "report.html")
    run = RunFolder(trained_run)
    saved = json.loads(run.evaluation_path.read_text())
    metrics = run.read_metrics()
    parser = Collector()
    parser.feed(out.read_text(encoding="utf-8"))
    text = " ".join(parser.text)

    assert f"Accuracy {saved['accuracy']:.1%}" in text
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
