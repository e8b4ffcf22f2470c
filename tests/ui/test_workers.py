import threading

from PySide6.QtCore import QThread
from PySide6.QtWidgets import QApplication

from desktop_app.core.errors import UserError
from desktop_app.ui.workers import Task


def test_task_reports_progress_and_result_on_the_gui_thread(qtbot):
    seen = []

    def work(n, report, should_stop):
        for i in range(n):
            report(i)
        return threading.current_thread().name

    task = Task(work, 3)
    task.progress.connect(lambda v: seen.append((v, QThread.currentThread() is QApplication.instance().thread())))
    with qtbot.waitSignal(task.succeeded, timeout=10000) as blocker:
        task.start()
    assert blocker.args[0] != threading.main_thread().name  # it ran on another thread
    qtbot.waitUntil(lambda: len(seen) == 3)
    assert seen == [(0, True), (1, True), (2, True)]
    qtbot.waitUntil(lambda: not task.is_running())


def test_user_errors_arrive_as_their_sentence(qtbot):
    def work(report, should_stop):
        raise UserError("The folder is empty.")

    task = Task(work)
    with qtbot.waitSignal(task.failed, timeout=10000) as blocker:
        task.start()
    assert blocker.args == ["The folder is empty."]


def test_stop_request_reaches_the_work(qtbot):
    started = threading.Event()

    def work(report, should_stop):
        started.set()
        while not should_stop():
            QThread.msleep(5)
        return "stopped"

    task = Task(work)
    with qtbot.waitSignal(task.succeeded, timeout=10000) as blocker:
        task.start()
        assert started.wait(5)
        assert task.stop_and_wait(5000)
    assert blocker.args == ["stopped"]
