"""Digits image classifier: the pipeline stages (ingest, prepare, train, evaluate) and MLflow tracking."""
