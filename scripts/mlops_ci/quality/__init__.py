"""Quality gates: lint, test, dependency pins, Docker integration tests."""
