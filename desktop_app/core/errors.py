"""Errors a user can cause, carrying one sentence they can act on."""


class UserError(Exception):
    """A problem with the user's input (folder, image, settings), not a bug.

    Its message is shown as is: on stderr by the CLI, in a message box by the GUI.
    """

    exit_code = 1  # what the command line ends with


def first_line(error: BaseException, limit: int = 200) -> str:
    """The first line of an error's message (its type when it has none): enough to say what failed."""
    text = str(error).strip()
    return (text.splitlines()[0] if text else type(error).__name__)[:limit]


class RefusedError(UserError):
    """The command cannot be done as asked (it would overwrite or change what must not change);
    nothing was touched. The command line ends with 2, like a usage error."""

    exit_code = 2


class ClassesChanged(UserError):
    """The dataset's class folders are not the ones a run was made with; ``missing`` and
    ``added`` name them, so a window can ask which new name is which old one."""

    def __init__(self, message: str, missing: list[str], added: list[str]):
        super().__init__(message)
        self.missing, self.added = list(missing), list(added)

    def __reduce__(self):  # crosses from the engine to the window
        return type(self), (str(self), self.missing, self.added)
