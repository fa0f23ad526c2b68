"""Training on DVC and MLflow: plan, run, reuse, experiments, promotion."""
