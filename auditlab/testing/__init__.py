"""Audit-completeness testing: hypothesis strategies (:mod:`auditlab.testing.strategies`) and the pytest plugin.

The plugin (module ``_auditlab_pytestplugin``, registered under the ``pytest11`` entry point) gives the fixtures
``auditlab_seed``, ``mock_world`` and ``mock_log``; it imports nothing of auditlab until a fixture is used.
"""

from __future__ import annotations

__all__: list[str] = []
