"""`python -m mlops_ci` is `mlops-ci`."""

from mlops_ci.cli import main

raise SystemExit(main())
