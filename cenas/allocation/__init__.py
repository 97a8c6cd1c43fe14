"""GPU allocation policies: how many of the G GPUs train (the rest sample with the supernet) each interval."""
