"""The errors repsense raises on purpose.

Every error a user can cause (a bad file, a bad flag, a lost sensor) is a ``RepsenseError``.
The command line turns any of them into one line on stderr and exit status 2. Anything else
that escapes is a bug.

::

    RepsenseError
     +-- RecordingError   a recording file is missing, malformed or holds impossible values
     +-- ProtocolError    bytes from a sensor break the wire protocol
     +-- LinkError        a transport (serial port, BLE) failed or vanished
     +-- ConfigError      a setting or command-line value makes no sense
     +-- HistoryError     the history database is locked, damaged, not ours, or too new
"""


class RepsenseError(Exception):
    """Base of all errors that repsense reports to the user as one line."""


class RecordingError(RepsenseError):
    """A recording cannot be read, or holds values no sensor can produce."""


class ProtocolError(RepsenseError):
    """Bytes from a sensor do not follow the wire protocol."""


class LinkError(RepsenseError):
    """A transport to a sensor failed, vanished or could not be opened."""


class ConfigError(RepsenseError):
    """A setting, plan or command-line value is invalid."""


class HistoryError(RepsenseError):
    """The history database cannot be used: locked by another program, damaged, not a repsense history, or written
    by a newer repsense. The file is never overwritten when this is raised."""
