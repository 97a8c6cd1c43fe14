"""Baseline search methods that run on the same harness contract as CE-NAS."""
