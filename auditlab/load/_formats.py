"""The format registry: which loader modules exist, in sniffing order, and how a source's format is chosen.

Each loader module under ``auditlab.load`` defines::

    NAME: str                      # the format's name, as given to format=
    DESCRIPTION: str               # one line for al.formats()
    def sniff(head: bytes) -> bool # does this decompressed start of a file look like this format?
    def parse(source: Source, *, batch_rows: int) -> Iterator[pl.DataFrame]   # canonical frames

Modules are imported only when a format is sniffed or asked for.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import TYPE_CHECKING

from auditlab._errors import FormatError

if TYPE_CHECKING:
    from auditlab.load._io import Source

__all__ = ["FORMAT_MODULES", "get", "names", "resolve"]

FORMAT_MODULES: dict[str, str] = {
    # Sniffing order: the most specific content tests first.
    "evtx": "auditlab.load.evtx",
    "windows_xml": "auditlab.load.windows_xml",
    "cloudtrail": "auditlab.load.cloudtrail",
    "k8s_audit": "auditlab.load.k8s_audit",
    "gcp_audit": "auditlab.load.gcp_audit",
    "windows_json": "auditlab.load.windows_json",
    "journald": "auditlab.load.journald",
    "auditd": "auditlab.load.auditd",
    "syslog": "auditlab.load.syslog",
}

SNIFF_BYTES = 64 * 1024


def names() -> list[str]:
    """The supported format names, in sniffing order."""
    return list(FORMAT_MODULES)


def get(name: str) -> ModuleType:
    """The loader module of a format, by name.

    Raises:
        FormatError: an unknown name; the message lists the known ones.
    """
    try:
        module = FORMAT_MODULES[name]
    except (KeyError, TypeError):
        raise FormatError(f"format={name!r} is not a known format; known formats: {names()}") from None
    return importlib.import_module(module)


def resolve(source: Source, format: str | None) -> ModuleType:  # noqa: A002 - the public keyword is format=
    """The loader for one source: the one asked for, else the first whose ``sniff`` accepts the file's start.

    Raises:
        FormatError: no loader recognised the content; the message names the file and the formats tried.
    """
    if format is not None:
        return get(format)
    head = source.head(SNIFF_BYTES)
    for name in FORMAT_MODULES:
        module = get(name)
        if module.sniff(head):
            return module
    preview = head[:80].decode("utf-8", "backslashreplace")
    raise FormatError(
        f"cannot tell the format of {source.name}: tried {names()}; it starts with {preview!r}. "
        "Pass format= to choose one."
    )
