"""Where every rule the kit enforces comes from: the page, an invariant, or an expectation.

:mod:`contracts.kit.rules.page` ships the sentences of the published page the
kit quotes (users of the kit have no copy of the page beside it);
:mod:`contracts.kit.rules.sources` is the one registry of checks and
expectations with their sources, read by ``--list-checks``, the runner and
every report.
"""
