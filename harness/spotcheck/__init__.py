"""Real-GPU (and CPU) spot checks: train sampled NB201 architectures for real, measure time and energy, and compare
with the tables the simulator trusts (`harness spotcheck`; docs/spotchecks.md)."""
