"""Every control a user can reach has an objectName and an accessibleName (screen readers)."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QAbstractButton, QAbstractItemView, QAbstractSlider, QAbstractSpinBox, QComboBox, QHeaderView, QLineEdit, QScrollBar,
    QWidget,
)

from desktop_app.ui.shell.main_window import MainWindow

INTERACTIVE = (QAbstractButton, QAbstractSpinBox, QComboBox, QLineEdit, QAbstractSlider, QAbstractItemView)


def _owned_by_qt(widget: QWidget) -> bool:
    """Parts Qt builds inside a control (a spin box's line edit, a combo's popup list,
    scroll bars, a table's corner button): the control itself carries the names."""
    if isinstance(widget, (QScrollBar, QHeaderView)):
        return True
    parent = widget.parentWidget()
    while parent is not None:
        if isinstance(parent, (QAbstractSpinBox, QComboBox, QLineEdit)) or type(parent).__name__ in ("QComboBoxPrivateContainer",):
            return True
        if isinstance(parent, QAbstractItemView) and not isinstance(widget, QAbstractItemView):
            return True
        parent = parent.parentWidget()
    return widget.objectName().startswith("qt_")


def test_every_interactive_control_is_named(qtbot, image_folder):
    window = MainWindow(data_folder=str(image_folder))
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: window.session.index is not None, timeout=15000)
    missing = []
    checked = 0
    for widget in window.findChildren(QWidget):
        if not isinstance(widget, INTERACTIVE) or _owned_by_qt(widget):
            continue
        checked += 1
        if not widget.objectName() or not widget.accessibleName():
            missing.append(f"{type(widget).__name__} objectName={widget.objectName()!r} "
                           f"accessibleName={widget.accessibleName()!r} text={getattr(widget, 'text', lambda: '')()!r}")
    assert checked > 40
    assert missing == []


def test_step_pages_have_what_is_this_help(qtbot, image_folder):
    window = MainWindow(data_folder=str(image_folder))
    qtbot.addWidget(window)
    for row in range(window.pages.count()):
        page = window.pages.widget(row)
        assert len(page.whatsThis()) > 80
        assert not page.help_button.isHidden()


def test_previous_and_next_step_shortcuts(qtbot, image_folder):
    window = MainWindow(data_folder=str(image_folder))
    qtbot.addWidget(window)
    assert window.steps.currentRow() == 0
    window.desktop.next_action.trigger()
    window.desktop.next_action.trigger()
    assert window.pages.currentIndex() == 2
    window.desktop.previous_action.trigger()
    assert window.steps.currentRow() == 1
    for _ in range(10):
        window.desktop.next_action.trigger()
    assert window.steps.currentRow() == window.steps.count() - 1
    keys = [s.toString() for s in window.desktop.next_action.shortcuts()]
    assert "Ctrl+PgDown" in keys and "Alt+Right" in keys


def test_about_lists_tensorflow_keras_and_qt_versions_without_importing_tensorflow():
    import subprocess
    import sys

    code = ("import sys; from desktop_app.ui.shell.menus import about_html; html = about_html(); "
            "assert 'TensorFlow' in html and 'Keras' in html and 'Qt' in html, html; "
            "assert 'tensorflow' not in sys.modules; print('ok')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "ok", out.stderr
