"""Data quality, drift, A/B comparison, canary, serving and alerts."""
