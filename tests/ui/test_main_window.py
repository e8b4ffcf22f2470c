from PySide6.QtWidgets import QTableWidget

from conftest import make_image_folder
from desktop_app.ui.shell.main_window import STEPS, MainWindow


def _wait_loaded(qtbot, window, timeout=60000):
    qtbot.waitUntil(lambda: window.session.index is not None and not window.data_panel.busy.isVisible(),
                    timeout=timeout)


def test_window_shows_the_six_steps_and_the_demo_dataset(qtbot):
    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    assert window.windowTitle() == "Transfer Studio"
    steps = window.steps
    assert [steps.item(i).text().split(maxsplit=1)[1] for i in range(steps.count())] == list(STEPS)
    assert window.pages.count() == len(STEPS)

    _wait_loaded(qtbot, window)
    table = window.findChild(QTableWidget, "classTable")
    names = [table.item(r, 0).text() for r in range(table.rowCount())]
    assert names == ["circles", "squares", "stars", "triangles"]
    assert "4 classes" in window.data_panel.summary.text()


def test_sidebar_switches_pages(qtbot):
    window = MainWindow()
    qtbot.addWidget(window)
    for row in range(len(STEPS)):
        window.steps.setCurrentRow(row)
        assert window.pages.currentIndex() == row
    window.go_to_step("Data")
    assert window.pages.currentWidget() is window.data_panel


def test_data_folder_given_on_start(qtbot, tmp_path):
    folder = make_image_folder(tmp_path / "mine", per_class=3)
    window = MainWindow(data_folder=str(folder))
    qtbot.addWidget(window)
    _wait_loaded(qtbot, window)
    assert window.session.index.root == folder.resolve()
    assert window.data_panel.path_edit.text() == str(folder.resolve())


def test_bad_folder_shows_a_message_and_keeps_running(qtbot, tmp_path):
    window = MainWindow(data_folder=str(tmp_path / "missing"))
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: "not there any more" in window.data_panel.message.text(), timeout=30000)
    assert window.data_panel.choose_button.isEnabled()
    window.data_panel.load(None)  # the user can go on
    _wait_loaded(qtbot, window)
    # A bad folder after a good one: the good one is not silently kept for training.
    (tmp_path / "empty").mkdir()
    window.data_panel.load(str(tmp_path / "empty"))
    # (An empty folder is a dataset to make in the app: it says how to start.)
    qtbot.waitUntil(lambda: "Press New class" in window.data_panel.message.text(), timeout=30000)
    assert window.session.index is None and window.data_panel.table.rowCount() == 0
    assert "Dataset:" not in window.statusBar().currentMessage()  # the good folder is not named any more
    window.train_panel.start()
    assert "Choose a dataset" in window.train_panel.status.text() and not window.train_panel.is_training()


def test_a_folder_dropped_on_the_window_opens_on_the_data_page(qtbot, tmp_path):
    from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
    from PySide6.QtGui import QDropEvent

    window = MainWindow()
    qtbot.addWidget(window)
    _wait_loaded(qtbot, window)
    window.go_to_step("Train")
    folder = make_image_folder(tmp_path / "dropped", per_class=3)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(folder))])
    drop = QDropEvent(QPointF(5, 5), Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton,
                      Qt.KeyboardModifier.NoModifier)
    window.dropEvent(drop)
    assert window.pages.currentWidget() is window.data_panel
    qtbot.waitUntil(lambda: window.session.index is not None and window.session.index.root == folder.resolve(),
                    timeout=30_000)


def test_a_translated_window_shows_translated_steps_menus_and_help(qtbot):
    """In another language the step names, their help and the menus change, and the menus
    are still found (by object name, not by their English titles); STEPS stay the keys."""
    from PySide6.QtCore import QTranslator
    from PySide6.QtWidgets import QApplication

    class Brackets(QTranslator):  # a stand-in language: every text comes back in «»
        def translate(self, context, source, disambiguation=None, n=-1):
            return f"«{source}»"

        def isEmpty(self):
            return False

    app = QApplication.instance()
    translator = Brackets()
    app.installTranslator(translator)
    try:
        window = MainWindow()
        qtbot.addWidget(window)
    finally:
        app.removeTranslator(translator)
    steps = window.steps
    assert steps.item(0).text() == "«1  «Data»»"
    assert steps.item(3).toolTip() == "«Step 4: «Train» (Ctrl+4)»"
    titles = [a.text() for a in window.menuBar().actions()]
    assert titles == ["«&File»", "«&Edit»", "«&View»", "«&Go»", "«&Help»"]
    assert window.desktop.next_action.text() == "«&Next step»"
    assert window.pages.widget(1).whatsThis().startswith("«Augmentation shows the model")
    window.go_to_step("Evaluate")  # the English name is still the key
    assert window.pages.currentWidget() is window.evaluate_panel
