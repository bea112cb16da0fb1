"""regprune: reproductions of five papers on regularization, pruning and sparsity."""

__version__ = "0.1.0"
