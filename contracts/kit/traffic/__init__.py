"""Judging traffic the kit did not make: observed exchanges, the judge, the lifecycle
watch, the validating proxy and HAR files. Knows nothing of :mod:`contracts.kit.profiles`."""
