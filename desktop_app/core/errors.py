"""Errors a user can cause, carrying one sentence they can act on."""


class UserError(Exception):
    """A problem with the user's input (folder, image, settings), not a bug.

    Its message is shown as is: on stderr by the CLI, in a message box by the GUI.
    """
