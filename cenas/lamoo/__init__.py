"""LaMOO: space partitioning by dominance labels and SVM boundaries, with UCB selection of a region."""
