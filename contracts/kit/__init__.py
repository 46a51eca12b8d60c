"""The conformance kit: checks a deployment of the Credentials API against the contract.

``planasonix-contract`` (:mod:`contracts.kit.cli`) and the pytest plugin
(:mod:`contracts.kit.pytest_plugin`) drive it over HTTP. It imports
:mod:`contracts` for the schemas and strategies; ``contracts`` never imports it.
It reaches :mod:`mockserver` only lazily, in :mod:`contracts.kit.fake_target`,
for ``--target fake``, so the kit runs without the fake installed.
"""
