"""Every string the window shows is marked for Qt's translation tools (lupdate finds it).

A text handed to a widget must come from ``tr``/``QCoreApplication.translate`` (or a
variable that did); sentences kept in module or class constants are wrapped in
``QT_TRANSLATE_NOOP`` and translated where they are shown.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

UI = Path(__file__).resolve().parents[2] / "desktop_app" / "ui"

# Calls whose arguments (by position, or by keyword) are shown to the user.
TEXT_METHODS = {
    "setText": (0,), "setToolTip": (0,), "setStatusTip": (0,), "setWhatsThis": (0,), "setWindowTitle": (0,),
    "setPlaceholderText": (0,), "setAccessibleName": (0,), "setAccessibleDescription": (0,),
    "showMessage": (0,), "setTitle": (0,), "setLabelText": (0,), "addItem": (0,), "insertItem": (1,),
    "setSuffix": (0,), "setPrefix": (0,), "setSpecialValueText": (0,), "setFormat": (0,), "addTab": (1,),
    "setTabText": (1,), "setItemText": (1,), "setHeaderLabels": (0,), "setHorizontalHeaderLabels": (0,),
    "addRow": (0,), "addMenu": (0,), "addAction": (0,), "setLabel": (1,), "setButtonText": (1,),
    "setInformativeText": (0,), "setDetailedText": (0,), "setWindowIconText": (0,),
}
TEXT_CLASSES = {"QLabel": (0,), "QPushButton": (0,), "QCheckBox": (0,), "QRadioButton": (0,), "QGroupBox": (0,),
                "QToolButton": (), "QAction": (0,), "QMenu": (0,), "QTableWidgetItem": (0,),
                "QListWidgetItem": (0,), "QTreeWidgetItem": ()}
MESSAGE_BOX = {"question", "information", "warning", "critical", "about"}  # (parent, title, text)
PROJECT_HELPERS = {"named": (2, 3), "styled_label": (0,), "_action": (1,), "_menu": (1,)}
TEXT_KEYWORDS = {"text", "title", "tip", "toolTip", "statusTip", "windowTitle", "placeholderText",
                 "accessible", "accessibleName", "label", "explanation", "message", "sentence"}
MARKERS = {"tr", "translate", "QT_TRANSLATE_NOOP", "QT_TR_NOOP", "QT_TRANSLATE_NOOP3", "plural"}
# Module constants that are not shown as text.
NOT_TEXT = {"DARK_EXTRA", "PRESENTATION_EXTRA", "STYLE", "SHEET"}


def _name(func: ast.AST) -> str:
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


def _is_wording(node: ast.AST) -> bool:
    """A literal a person would read: has letters and is not an identifier-like key."""
    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        text = node.value.strip()
        return any(c.isalpha() for c in text) and (" " in text or text[:1].isupper() or "&" in text)
    if isinstance(node, ast.BinOp):
        return _is_wording(node.left) or _is_wording(node.right)
    if isinstance(node, ast.IfExp):
        return _is_wording(node.body) or _is_wording(node.orelse)
    return False


def _shown_arguments(call: ast.Call) -> list[ast.AST]:
    name = _name(call.func)
    positions: tuple[int, ...] = ()
    if isinstance(call.func, ast.Attribute) and name in TEXT_METHODS:
        positions = TEXT_METHODS[name]
    elif name in TEXT_CLASSES:
        positions = TEXT_CLASSES[name]
    elif name in PROJECT_HELPERS:
        positions = PROJECT_HELPERS[name]
    elif name in MESSAGE_BOX and isinstance(call.func, ast.Attribute) and _name(call.func.value) == "QMessageBox":
        positions = (1, 2)
    shown = [call.args[i] for i in positions if i < len(call.args)]
    if name in TEXT_METHODS or name in TEXT_CLASSES or name in PROJECT_HELPERS or name in MESSAGE_BOX:
        shown += [k.value for k in call.keywords if k.arg in TEXT_KEYWORDS]
    return shown


def _marked_calls(tree: ast.AST) -> set[int]:
    """ids of every node inside a tr()/translate()/NOOP call."""
    inside: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _name(node.func) in MARKERS:
            inside.update(id(n) for n in ast.walk(node))
    return inside


def unmarked_texts(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    marked = _marked_calls(tree)
    found: list[str] = []

    def report(node: ast.AST) -> None:
        if id(node) not in marked and _is_wording(node):
            found.append(f"{path.relative_to(UI.parent.parent)}:{node.lineno}: {ast.unparse(node)[:70]}")

    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            for argument in _shown_arguments(node):
                for part in ast.walk(argument):  # a literal anywhere in the argument (in an IfExp, a list...)
                    if isinstance(part, (ast.Constant, ast.JoinedStr)):
                        report(part)
    # Sentences kept in module and class constants.
    bodies = [tree.body] + [n.body for n in ast.walk(tree) if isinstance(n, ast.ClassDef)]
    for body in bodies:
        for statement in body:
            if isinstance(statement, (ast.Assign, ast.AnnAssign)):
                targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
                if any(isinstance(t, ast.Name) and t.id in NOT_TEXT for t in targets) or statement.value is None:
                    continue
                for part in ast.walk(statement.value):
                    if isinstance(part, ast.Constant) and isinstance(part.value, str) and " " in part.value.strip():
                        report(part)
    return found


def test_every_shown_text_is_marked_for_translation():
    unmarked = [line for path in sorted(UI.rglob("*.py")) for line in unmarked_texts(path)]
    assert not unmarked, f"{len(unmarked)} texts not marked for translation:\n" + "\n".join(unmarked)


def test_the_checker_sees_unmarked_and_marked_text(tmp_path):
    sample = UI / "_sample_for_test.py"
    sample.write_text(
        'HINT = "Choose a folder first."\n'
        'OK = QT_TRANSLATE_NOOP("Data", "Choose a folder first.")\n'
        'label = QLabel(f"{n} photos")\n'
        'button.setToolTip(self.tr("Start training."))\n'
        'named(w, "startButton", "Start training", self.tr("Start."))\n'
        'box.setObjectName("startButton")\n'
    )
    try:
        found = unmarked_texts(sample)
    finally:
        sample.unlink()
    assert [line.split(": ", 1)[1] for line in found] == ["f'{n} photos'", "'Start training'", "'Choose a folder first.'"]


@pytest.mark.skipif(shutil.which("pyside6-lupdate", path=str(Path(sys.executable).parent)) is None,
                    reason="pyside6-lupdate is not installed")
def test_lupdate_extracts_the_window_texts(tmp_path):
    lupdate = shutil.which("pyside6-lupdate", path=str(Path(sys.executable).parent))
    ts = tmp_path / "transfer_studio_xx.ts"
    sources = [str(p) for p in sorted(UI.rglob("*.py"))]
    subprocess.run([lupdate, *sources, "-ts", str(ts), "-silent"], check=True, timeout=120)
    text = ts.read_text(encoding="utf-8")
    assert text.count("<message>") > 300
    assert "Check this computer for class" in text


@pytest.mark.skipif(shutil.which("pyside6-lrelease", path=str(Path(sys.executable).parent)) is None,
                    reason="pyside6-lrelease is not installed")
def test_a_built_translation_changes_what_the_window_says(qtbot, tmp_path):
    from PySide6.QtCore import QLocale
    from PySide6.QtWidgets import QApplication

    from desktop_app.core.session import Session
    from desktop_app.ui.shell.class_check import ClassCheckDialog
    from desktop_app.ui.tasks import Engine
    from desktop_app.ui.translations import install_translators

    tools = Path(sys.executable).parent
    ts = tmp_path / "transfer_studio_de.ts"
    subprocess.run([str(tools / "pyside6-lupdate"), str(UI / "shell" / "class_check.py"), "-ts", str(ts), "-silent"],
                   check=True, timeout=120)
    source = "<source>Check this computer for class</source>"
    text = ts.read_text(encoding="utf-8")
    assert source in text
    ts.write_text(text.replace(source + '\n        <translation type="unfinished"></translation>',
                               source + "\n        <translation>Ist dieser Computer bereit für den Unterricht?"
                                        "</translation>"), encoding="utf-8")
    subprocess.run([str(tools / "pyside6-lrelease"), str(ts), "-qm", str(tmp_path / "transfer_studio_de.qm"),
                    "-silent"], check=True, timeout=120)
    app = QApplication.instance()
    translators = install_translators(app, QLocale("de_AT"), tmp_path)
    try:
        assert translators, "the German file was not found for de_AT"
        engine = Engine(warm_up=False)
        dialog = ClassCheckDialog(Session(), engine)
        qtbot.addWidget(dialog)
        assert dialog.windowTitle() == "Ist dieser Computer bereit für den Unterricht?"
        engine.close()
    finally:
        for translator in translators:
            app.removeTranslator(translator)
