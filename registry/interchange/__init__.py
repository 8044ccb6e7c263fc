"""Exchanging systems with other tools and registries: one record shape, several formats."""
