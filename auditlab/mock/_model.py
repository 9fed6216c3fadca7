"""The two data types the mock generator passes between its parts: :class:`Event` and :class:`Record`.

An :class:`Event` is one thing that happened, before any log format is chosen; a :class:`Record` is one native log
record a renderer wrote for an event, with the canonical values :func:`auditlab.load` must read back from it.

Event kinds and their ``fields``, by source (``host`` is the host name, AWS account id, cluster or GCP project):

``linux`` (rendered by :mod:`auditlab.mock.auditd` and :mod:`auditlab.mock.syslog`); every kind carries ``pid``,
and those run by a logged-in user carry ``user``, ``uid``, ``auid`` (login uid), ``ses`` (login session) and
``tty``; a ``None`` id is unset (auditd writes ``4294967295``; ``ssh_auth`` comes before any login, so its ``auid``
is ``None``):

- ``ssh_auth``: ``user`` (the name tried, maybe no such account), ``method`` (``password``/``publickey``),
  ``src_ip``, ``src_port``, ``invalid_user`` (bool); ``success``.
- ``session_open`` / ``session_close``: an ssh login session of ``user``/``uid`` from ``src_ip``/``src_port``,
  ``ses`` the new login session, ``tty`` (``pts/N``).
- ``command``: ``exe``, ``argv`` (list of strings), ``cwd``, ``ppid``, ``euid``; a program run by the user.
- ``sudo``: ``command`` (the command line), ``cwd``, ``target``/``target_uid`` (``root``/``0``); ``success``.
- ``su``: ``target``/``target_uid``; ``success``.
- ``useradd``: ``new_user``, ``new_uid``, ``home``, ``shell``.
- ``audit_disable``: ``argv`` of the ``auditctl`` call (``["auditctl", "-e", "0"]``).
- ``daemon_stop``: ``service`` (``auditd``, ``rsyslog``); the daemon stops (its own last record).
- ``service``: ``unit``, ``action`` (``start``/``stop``); systemd (pid 1) starts or stops a unit.
- ``cron``: ``user``/``uid``, ``command``; cron runs a job for a user.

``aws`` (:mod:`auditlab.mock.cloudtrail`): one kind, ``api_call``, whose ``fields`` are the CloudTrail record itself
(``eventVersion`` ... ``recipientAccountId``, with ``eventTime`` left to the renderer).

``gcp`` (:mod:`auditlab.mock.gcp_audit`): ``api_call``, ``fields`` the LogEntry without ``timestamp``.

``windows`` (:mod:`auditlab.mock.windows`): ``event``: ``event_id``, ``provider``, ``provider_guid``, ``channel``,
``data`` (EventData name -> value, in order) or ``user_data`` (``(element, {name: value})``), ``level``, ``task``,
``opcode``, ``keywords``, ``process_id``, ``thread_id``; the renderer numbers ``EventRecordID`` per computer and
channel.

``k8s`` (:mod:`auditlab.mock.k8s_audit`): ``request``: ``fields`` the audit Event without ``requestReceivedTimestamp``
and ``stageTimestamp``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

SOURCES = ("linux", "aws", "windows", "k8s", "gcp")


@dataclass(frozen=True, slots=True)
class Event:
    """One synthetic event, before rendering.

    ``scenario``, ``step`` and ``technique`` label attack events (an ATT&CK technique id such as ``T1110.001``);
    benign background has an empty ``scenario``. ``stripped`` asks the renderer to leave the actor fields out (the
    ``strip_actor`` fault); ``skew_us`` is how far the host's clock is off (the clock faults): the record says
    ``time_us + skew_us`` but keeps its place in the file.
    """

    time_us: int
    source: str
    kind: str
    host: str
    fields: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)
    success: bool = True
    actor: str | None = None
    scenario: str = ""
    step: int = 0
    technique: str = ""
    stripped: bool = False
    skew_us: int = 0

    @property
    def label(self) -> str:
        """``"benign"``, or ``"scenario/step/technique"``."""
        if not self.scenario:
            return "benign"
        return f"{self.scenario}/{self.step}/{self.technique}"

    def but(self, **changes: Any) -> Event:
        """A copy with ``changes`` applied."""
        return replace(self, **changes)


class Record:
    """One native record as written: ``text`` (several lines for an auditd event, no final newline) in ``file``.

    ``expect`` holds the canonical columns :func:`auditlab.load` must give for it (a ``None`` value means null). A
    renderer may pass a function of no arguments instead of the mapping: it is called the first time ``expect`` is
    read, so that writing logs does not pay for the truth nobody asks for. ``event`` is the index of the
    :class:`Event` it renders; ``time_us`` the time it says (set by :func:`auditlab.mock.render.render_records`).
    """

    __slots__ = ("_expect", "event", "file", "rid", "text", "time_us")

    def __init__(self, file: str, text: bytes, event: int, expect: dict[str, Any] | Callable[[], dict[str, Any]],
                 rid: int = -1, time_us: int = 0) -> None:
        self.file, self.text, self.event, self._expect, self.rid, self.time_us = file, text, event, expect, rid, time_us

    def __repr__(self) -> str:
        return f"Record(file={self.file!r}, event={self.event}, rid={self.rid}, text={self.text[:60]!r}...)"

    @property
    def expect(self) -> dict[str, Any]:
        """Canonical column -> the value :func:`auditlab.load` must read from this record."""
        if callable(self._expect):
            self._expect = self._expect()
        return self._expect

    def but(self, **changes: Any) -> Record:
        """A copy with ``changes`` (``file``, ``text``, ``rid``) applied; the expected values are shared."""
        out = Record(self.file, self.text, self.event, self._expect, self.rid, self.time_us)
        for name, value in changes.items():
            setattr(out, name, value)
        return out
