"""`mlops-ci deps check`: the requirement and environment file parsers, the pinning rules, the command."""
