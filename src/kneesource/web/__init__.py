"""The web interview and the REST API (``kneesource serve``)."""
