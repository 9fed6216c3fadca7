"""auditlab: audit-log forensics and audit-completeness testing.

Importing auditlab does no work: every name below is resolved on first use.

Examples:
    >>> import auditlab as al
    >>> {"auditd", "cloudtrail"} <= set(al.formats())
    True
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name -> (module, attribute or None for the module itself)
_LAZY: dict[str, tuple[str, str | None]] = {
    "schema": ("auditlab.schema", None),
    "export": ("auditlab.export", None),
    "mock": ("auditlab.mock", None),
    "AuditlabError": ("auditlab._errors", "AuditlabError"),
    "FormatError": ("auditlab._errors", "FormatError"),
    "InvalidArgument": ("auditlab._errors", "InvalidArgument"),
    "MissingExtraError": ("auditlab._errors", "MissingExtraError"),
    "SchemaError": ("auditlab._errors", "SchemaError"),
    "SourceError": ("auditlab._errors", "SourceError"),
}

# The verbs are bound eagerly: auditlab.load, auditlab.timeline and auditlab.gaps are also the names of their
# modules, and a lazy binding would be overwritten by the import system. Those modules import nothing heavy at
# import time (narwhals only; polars, pandas and the rest when an analysis runs).
from auditlab.gaps import gaps  # noqa: E402
from auditlab.identity import stitch  # noqa: E402
from auditlab.load import formats, load, scan  # noqa: E402
from auditlab.timeline import sessions, timeline  # noqa: E402

__all__ = [
    "AuditlabError",
    "FormatError",
    "InvalidArgument",
    "MissingExtraError",
    "SchemaError",
    "SourceError",
    "__version__",
    "export",
    "formats",
    "gaps",
    "load",
    "mock",
    "scan",
    "schema",
    "sessions",
    "stitch",
    "timeline",
]

if TYPE_CHECKING:
    from auditlab import export, mock, schema
    from auditlab._errors import (
        AuditlabError,
        FormatError,
        InvalidArgument,
        MissingExtraError,
        SchemaError,
        SourceError,
    )


def __getattr__(name: str) -> Any:
    try:
        module, attr = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'auditlab' has no attribute {name!r}") from None
    value = importlib.import_module(module)
    if attr is not None:
        value = getattr(value, attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
