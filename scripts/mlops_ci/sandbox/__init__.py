"""Local stand-ins for the services a CI run talks to, on real loopback sockets.

- :mod:`mlops_ci.sandbox.github`: a stateful GitHub REST API stand-in (``GITHUB_API_URL``).
- :mod:`mlops_ci.sandbox.services`: real MLflow, MariaDB and S3 (moto) servers in their own
  process groups.
- :mod:`mlops_ci.sandbox.oss`: an Alibaba Cloud OSS stand-in, the S3 server behind a proxy that
  serves only virtual-hosted-style requests.

Used by the tests and by ``mlops-ci demo``; nothing here is needed in a real CI run.
"""
