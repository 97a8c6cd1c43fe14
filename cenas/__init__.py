"""CE-NAS: carbon-efficient NAS (LaMOO partitioning, one-shot sampling queue, carbon-aware GPU allocation)."""
