"""What a run proved about a deployment, computed from the exchanges it recorded."""
