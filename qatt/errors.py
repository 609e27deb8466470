"""The one exception type users see: a known problem with a message that says what to do."""


class QattError(Exception):
    """A user-facing error (bad file, bad form, conflict, permission).

    The GUI shows the message in a dialog; the CLI prints it to stderr and exits 2.
    Bugs are not QattErrors and are never dressed up as one.
    """


class ConflictError(QattError):
    """Someone else saved the same record since it was read (optimistic version check)."""


class PermissionDenied(QattError):
    """The acting user's role does not allow this."""


class Cancelled(QattError):
    """The user cancelled a long-running operation; nothing was written."""

    def __init__(self, message: str = "Cancelled by the user; nothing was written.") -> None:
        super().__init__(message)
