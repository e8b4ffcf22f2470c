"""The window's language: Qt translators for the user's locale, when a translation exists.

The app's texts are marked with ``tr``/``QCoreApplication.translate`` (a test checks
it); ``docs/translations.md`` says how ``pyside6-lupdate`` collects them into
``resources/translations/transfer_studio_<lang>.ts`` and ``pyside6-lrelease`` builds the
``.qm`` files loaded here. Qt's own dialogs (buttons such as Cancel) use Qt's files.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QTranslator

from desktop_app.resources import resource_path

APP_FILE_PREFIX = "transfer_studio"


def translations_dir() -> Path:
    return resource_path("translations")


def install_translators(app: QCoreApplication, locale: QLocale | None = None,
                        folder: Path | None = None) -> list[QTranslator]:
    """Load the app's and Qt's translations for ``locale``; returns the translators installed."""
    locale = locale if locale is not None else QLocale.system()
    folder = folder if folder is not None else translations_dir()
    loaded = []
    wanted = ((APP_FILE_PREFIX, str(folder)), ("qtbase", QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)))
    for prefix, where in wanted:
        translator = QTranslator(app)
        # Tries e.g. transfer_studio_de_AT.qm, then transfer_studio_de.qm.
        if translator.load(locale, prefix, "_", where):
            app.installTranslator(translator)
            loaded.append(translator)
        else:
            translator.deleteLater()
    return loaded
