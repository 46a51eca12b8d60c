"""Profiles of a deployment's choices: the seeded call sequence, ``learn`` (probe a
deployment and write its profile) and ``diff`` (the same sequence against a deployment
and the fake). Knows nothing of :mod:`contracts.kit.traffic`."""
