"""The conformance kit: checks a deployment of the Credentials API against the contract.

A shared base at the top (the HTTP client, the reference model, canaries, the
run's context, the statuses the docs allow, findings, the report writer), then
rooms by what they do:

- :mod:`contracts.kit.checks`: one module per check of ``planasonix-contract run``
  and the registry of them;
- :mod:`contracts.kit.traffic`: judging traffic the kit did not make (proxy, HAR);
- :mod:`contracts.kit.profiles`: the call sequence, ``learn`` and ``diff``;
- :mod:`contracts.kit.cli`: the command line, the runner, cleanup, the pytest plugin.

It imports :mod:`contracts` for the schemas and strategies; ``contracts`` never
imports it. It reaches :mod:`mockserver` only lazily, in
:mod:`contracts.kit.fake_target`, for ``--target fake``, so the kit runs without
the fake installed.
"""
