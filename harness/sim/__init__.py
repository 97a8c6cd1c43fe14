"""The event-driven GPU-cluster simulator: clock, GPUs, jobs, energy and carbon accounting, budgets."""
