"""Every outbound connection: GitHub, MLflow, Pushgateway, Docker."""
