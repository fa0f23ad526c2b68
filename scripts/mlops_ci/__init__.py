"""mlops-ci: CI/CD backbone for ML project repositories."""

__version__ = "0.1.0"
