"""Test support: stand-ins, servers and scratch projects for tests, bench/ and the demo. Not shipped."""
