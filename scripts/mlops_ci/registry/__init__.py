"""mlops-ci's vocabulary on the MLflow Model Registry: tags, champion, canary state, metric names."""
