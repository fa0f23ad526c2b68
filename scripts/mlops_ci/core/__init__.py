"""Leaf utilities: errors and exit codes, workflow commands, text, the one subprocess wrapper."""
