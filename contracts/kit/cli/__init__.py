"""The command line ``planasonix-contract`` and what drives a run: the runner, cleanup,
signal handling and the pytest plugin."""
