"""Exact inference on a compiled model."""
