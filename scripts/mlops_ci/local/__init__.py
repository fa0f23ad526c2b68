"""`mlops-ci local`: run a project repo's workflows on this machine through act in host mode."""
