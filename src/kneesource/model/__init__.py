"""The compiled model: immutable arrays built from a validated knowledge base."""
