"""The main window: workflow steps in a sidebar, one page per step, menus.

The window owns the session and the engine and hands both to the pages; the pages
talk to each other only through the session.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QSize, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import (
    QApplication, QFrame, QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QMainWindow, QMessageBox, QScrollArea,
    QSizePolicy, QStackedWidget, QVBoxLayout, QWidget,
)

from desktop_app import APP_NAME
from desktop_app.core.session import Session
from desktop_app.ui.pages.augment import AugmentPanel
from desktop_app.ui.pages.data import DataPanel, dataset_choice
from desktop_app.ui.pages.evaluate import EvaluatePanel
from desktop_app.ui.pages.export import ExportPanel
from desktop_app.ui.pages.model import ModelPanel
from desktop_app.ui.pages.train import TrainPanel
from desktop_app.ui.shell.menus import about_html, install_desktop_actions
from desktop_app.ui.shell.project_controller import ProjectController
from desktop_app.ui.shell.steps import STEPS, step_title
from desktop_app.ui.tasks import Engine, shared_engine
from desktop_app.ui.widgets.bindings import follow
from desktop_app.ui.widgets.drops import dropped_folder


class PageStack(QStackedWidget):
    """The pages, in a scroll area that scrolls a page only when it does not fit.

    Asked for height-for-width, a stack answers its pages' preferred heights, and the
    scroll area would scroll pages that fit: so it answers none. A page that says
    ``wraps_to_fit`` (long sentences that wrap) is measured instead: laid out at the
    width it gets, its wrapped labels (and any part they squeezed) say how much taller it
    must be not to cut them."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._measure_pending = False
        self.currentChanged.connect(lambda _: self.measure_later())

    def hasHeightForWidth(self) -> bool:
        return False

    def measure_later(self) -> None:
        if not self._measure_pending:
            self._measure_pending = True
            QTimer.singleShot(0, self.fit_wrapped_text)

    def event(self, event) -> bool:
        if event.type() in (QEvent.Type.Resize, QEvent.Type.LayoutRequest):
            self.measure_later()
        return super().event(event)

    def fit_wrapped_text(self) -> None:
        self._measure_pending = False
        page = self.currentWidget()
        needed = 0
        if page is not None and getattr(page, "wraps_to_fit", False):
            labels = [w for w in page.findChildren(QLabel) if w.wordWrap() and w.isVisibleTo(page)]
            needed = page.minimumSizeHint().height()
            for _ in range(4):  # each pass gives the cut labels their height; wrapping settles fast
                page.setGeometry(0, 0, self.width(), needed)
                page.layout().activate()
                short = sum(max(0, label.heightForWidth(label.width()) - label.height()) for label in labels)
                # Wrapped labels that got their height may have squeezed a neighbour below its minimum.
                items = [page.layout().itemAt(i) for i in range(page.layout().count())]
                short += sum(max(0, item.minimumSize().height() - item.geometry().height())
                             for item in items if not item.isEmpty())
                if short == 0:
                    break
                needed += short
            page.setGeometry(self.rect())
        if needed != self.minimumHeight():
            self.setMinimumHeight(needed)


class MainWindow(QMainWindow):
    def __init__(self, data_folder: str | None = None, session: Session | None = None,
                 engine: Engine | None = None):
        super().__init__()
        self._closing_after_training = False
        self._fitted = False
        self.setAcceptDrops(True)
        self.setWindowTitle(APP_NAME)
        self.resize(1200, 780)
        self.session = session if session is not None else Session()
        if data_folder is not None:
            self.session.dataset = dataset_choice(data_folder)
        # TensorFlow starts in the engine's own process now, while the user looks at the Data page.
        self.engine = engine if engine is not None else shared_engine()
        self.engine.start()
        self.engine.died.connect(lambda text: self.statusBar().showMessage(text, 15_000))

        self.steps = QListWidget(objectName="stepList")
        self.steps.setAccessibleName(self.tr("Workflow steps"))
        self.steps.setFixedWidth(210)
        self.steps.setIconSize(QSize(20, 20))
        for number, name in enumerate(STEPS, start=1):  # STEPS stay English keys; the list shows them translated
            item = QListWidgetItem(self.tr("{number}  {step}").format(number=number, step=step_title(name)))
            item.setToolTip(self.tr("Step {number}: {step} (Ctrl+{number})").format(number=number,
                                                                                   step=step_title(name)))
            self.steps.addItem(item)

        self.pages = PageStack(objectName="pages")
        s, e = self.session, self.engine
        self.data_panel = DataPanel(s)
        self.augment_panel = AugmentPanel(s, e)
        self.model_panel = ModelPanel(s, e)
        self.train_panel = TrainPanel(s)
        self.evaluate_panel = EvaluatePanel(s, e)
        self.export_panel = ExportPanel(s, e)
        for page in self.all_pages():
            self.pages.addWidget(page)
        self.steps.currentRowChanged.connect(self.pages.setCurrentIndex)
        self.pages.currentChanged.connect(self._size_to_current_page)
        self.train_panel.stepRequested.connect(self.go_to_step)
        self.data_panel.trainRequested.connect(self.train_now)
        self.steps.setCurrentRow(0)

        central = QWidget()
        layout = QHBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.steps)
        # A page that needs more room than the screen has scrolls: the window itself never
        # outgrows the screen (presentation mode's big text on a 1,280 x 720 projector).
        self.page_scroll = QScrollArea(widgetResizable=True, frameShape=QFrame.Shape.NoFrame, objectName="pageScroll")
        holder = QWidget()  # the scroll area asks its widget's layout, not the widget, about height-for-width
        QVBoxLayout(holder).setContentsMargins(0, 0, 0, 0)
        holder.layout().addWidget(self.pages)
        self.page_scroll.setWidget(holder)
        self._size_to_current_page(self.pages.currentIndex())
        layout.addWidget(self.page_scroll, 1)
        self.setCentralWidget(central)
        self._build_menus()
        self.projects = ProjectController(self, self.session)
        self.desktop = install_desktop_actions(self)
        self.statusBar().showMessage(self.tr("Ready"))
        follow(self.session.events.index, self._dataset_checked, self)
        self.data_panel.reload()

    # ----- size: the window fits its screen, in presentation mode too -----
    def showEvent(self, event) -> None:
        super().showEvent(event)
        if not self._fitted:  # once: a first size (or a restored one) bigger than this screen
            self._fitted = True
            self.fit_to_screen()

    def fit_to_screen(self) -> None:
        """Shrink (and move) the window into the screen's free area if it sticks out."""
        if self.isMaximized() or self.isFullScreen() or self.screen() is None:
            return
        free = self.screen().availableGeometry()
        frame = self.frameGeometry().size() - self.geometry().size()  # title bar and borders
        width = min(self.width(), free.width() - frame.width())
        height = min(self.height(), free.height() - frame.height())
        if (width, height) != (self.width(), self.height()):
            self.resize(width, height)
        x = min(max(self.x(), free.left()), free.right() + 1 - self.frameGeometry().width())
        y = min(max(self.y(), free.top()), free.bottom() + 1 - self.frameGeometry().height())
        if (x, y) != (self.x(), self.y()):
            self.move(x, y)

    def _size_to_current_page(self, current: int) -> None:
        """Only the page shown sets the minimum size (a stack takes its largest page's):
        a small page never scrolls because a big one is hidden behind it."""
        for row in range(self.pages.count()):
            policy = QSizePolicy.Policy.Preferred if row == current else QSizePolicy.Policy.Ignored
            self.pages.widget(row).setSizePolicy(policy, policy)
        self.pages.updateGeometry()
        self.page_scroll.widget().layout().invalidate()  # height-for-width may have changed with the page

    def apply_presentation_scale(self, scale: float) -> None:
        """Called by the theme after the fonts changed: a sidebar just wide enough for its
        bigger text (scaling its 210 px would take a third of a projector's width)."""
        if scale > 1:
            metrics = self.steps.fontMetrics()
            widest = max(metrics.horizontalAdvance(self.steps.item(i).text()) for i in range(self.steps.count()))
            self.steps.setFixedWidth(widest + 2 * 18 + 4 + 24)  # item padding, selection bar, slack
        self.fit_to_screen()

    def all_pages(self) -> list[QWidget]:
        return [self.data_panel, self.augment_panel, self.model_panel, self.train_panel, self.evaluate_panel,
                self.export_panel]

    def _dataset_checked(self, index, _old=None) -> None:
        # No dataset (an unusable folder): the old folder's name must not stay in view.
        self.statusBar().showMessage(self.tr("Dataset: {folder}").format(folder=index.root) if index is not None
                                     else "")

    def _build_menus(self) -> None:
        # Object names let the desktop actions find these menus whatever language their titles are in.
        file_menu = self.menuBar().addMenu(self.tr("&File"))
        file_menu.setObjectName("fileMenu")
        open_action = QAction(self.tr("Open &dataset folder…"), self, shortcut=QKeySequence("Ctrl+Shift+O"))
        open_action.triggered.connect(self.data_panel.choose_folder)
        demo_action = QAction(self.tr("Use the &demo dataset"), self)
        demo_action.triggered.connect(lambda: self.data_panel.load(None))
        quit_action = QAction(self.tr("&Quit"), self, shortcut=QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        for action in (open_action, demo_action):
            file_menu.addAction(action)
        file_menu.addSeparator()
        file_menu.addAction(quit_action)

        go_menu = self.menuBar().addMenu(self.tr("&Go"))
        go_menu.setObjectName("goMenu")
        for number, name in enumerate(STEPS, start=1):
            action = QAction(self.tr("&{number} {step}").format(number=number, step=step_title(name)), self,
                             shortcut=QKeySequence(f"Ctrl+{number}"))
            action.triggered.connect(lambda _=False, row=number - 1: self.steps.setCurrentRow(row))
            go_menu.addAction(action)

        help_menu = self.menuBar().addMenu(self.tr("&Help"))
        help_menu.setObjectName("helpMenu")
        about = QAction(self.tr("&About {app}").format(app=APP_NAME), self)
        about.triggered.connect(self.show_about)
        help_menu.addAction(about)

    def show_about(self) -> None:
        QMessageBox.about(self, self.tr("About {app}").format(app=APP_NAME), about_html(self.engine.info))

    def go_to_step(self, name: str) -> None:
        self.steps.setCurrentRow(STEPS.index(name))

    def train_now(self) -> None:
        """The Data page's "Train with these photos": on to the Train page, training at once."""
        self.go_to_step("Train")
        self.train_panel.train_now()

    # A folder dropped anywhere on the window (outside pages with drop zones of their own)
    # opens it as the dataset.
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        self.data_panel.dragEnterEvent(event)

    def dropEvent(self, event: QDropEvent) -> None:
        if dropped_folder(event) is not None:
            self.go_to_step("Data")
        self.data_panel.dropEvent(event)

    def closeEvent(self, event: QCloseEvent) -> None:
        training = self.train_panel.training
        if self.train_panel.is_training():
            # Don't freeze the window while training winds down: stop it, close when it is done.
            event.ignore()
            if self._closing_after_training:
                self._offer_quit_anyway()
                return
            if not self.ask_stop_training() or not self.projects.confirm_close():
                return  # Cancel: training goes on, the window stays
            self._closing_after_training = True
            self.statusBar().showMessage(self.tr("Stopping training after this batch; the window closes once the "
                                                 "checkpoint is saved…"))
            self.train_panel.stop()
            training.finished.connect(self.close)
            return
        if not self._closing_after_training and not self.projects.confirm_close():
            event.ignore()  # unsaved work: the user chose Cancel
            return
        for page in self.all_pages():
            page.stop_background_work(3000)
        event.accept()

    def ask_stop_training(self) -> bool:
        """Closing while a run trains: True to stop it and close (an attribute tests can answer)."""
        answer = QMessageBox.question(
            self, APP_NAME, self.tr("Training is running. Stop it and close? The last complete epoch is kept."),
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Cancel)
        return answer == QMessageBox.StandardButton.Yes

    def _offer_quit_anyway(self) -> None:
        answer = QMessageBox.question(
            self, self.tr("Training is still stopping"),
            self.tr("Training is finishing its batch and saving a checkpoint. Quit now anyway? The checkpoints "
                    "saved before stay intact; only this last one may be lost."),
        )
        if answer == QMessageBox.StandardButton.Yes:
            self.train_panel.training.finished.disconnect(self.close)
            QApplication.instance().quit()
