"""`mlops-ci protect`: branch-protection.json, its classic and ruleset forms, GitHub reads and writes,
the command."""
