"""Fixtures shared across test modules."""

from _ray_cluster import two_nodes  # noqa: F401  (the simulated two-node Ray cluster)
