"""Tests of the pipeline stages and the MLflow tracking step."""
