"""Upstream data: manifest, checksum-verified fetch into a cache, and builders of compact tables."""
