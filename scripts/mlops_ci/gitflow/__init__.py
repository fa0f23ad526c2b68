"""Git-flow: the branch policy and branch protection as code."""
