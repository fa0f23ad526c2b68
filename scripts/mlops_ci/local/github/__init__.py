"""The local GitHub that `mlops-ci local` serves: state, routes, JSON shapes, OpenAPI checks."""
