"""auditlab's exceptions: one base class, each subclass also a matching builtin."""

from __future__ import annotations

from collections.abc import Sequence

__all__ = [
    "AuditlabError",
    "FormatError",
    "InvalidArgument",
    "MissingExtraError",
    "SchemaError",
    "SourceError",
]


class AuditlabError(Exception):
    """Base class of every error auditlab raises on purpose."""


class InvalidArgument(AuditlabError, ValueError):
    """An argument has a value auditlab cannot use; the message names the argument and echoes the value."""


class SchemaError(AuditlabError, KeyError):
    """A frame does not have the columns or dtypes an operation needs."""

    def __init__(self, columns: Sequence[str], reason: str, *, present: Sequence[str] = ()) -> None:
        self.columns = list(columns)
        self.reason = reason
        self.present = list(present)
        super().__init__(str(self))

    def __str__(self) -> str:
        hint = f" (present: {self.present})" if self.present else ""
        return f"{self.reason}: {self.columns}{hint}"


class FormatError(AuditlabError, ValueError):
    """The format of an input could not be recognised, or an unknown format was asked for."""


class SourceError(AuditlabError, OSError):
    """An input could not be read: missing path, unreadable file, corrupt compression."""


class MissingExtraError(AuditlabError, ImportError):
    """A feature needs an optional dependency that is not installed; the message has the install line."""


def require(module: str, extra: str, feature: str) -> object:
    """Import ``module`` for ``feature``, or fail with the exact ``pip install`` line for the extra.

    Examples:
        >>> require("json", "dev", "tests").__name__
        'json'
    """
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingExtraError(
            f"{feature} needs {module!r}, which is not installed: pip install 'auditlab[{extra}]'"
        ) from exc
