"""Integration tests: run inside the project's container (see the Dockerfile) and locally."""
