"""Evaluation: how often kneesource is right on written vignettes and on synthetic patients.

``vignettes`` loads and validates the cases with known answers, ``simulator`` draws synthetic
patients from the compiled model, ``metrics`` holds the accuracy and calibration arithmetic,
``runner`` assesses cases and summarises them, and ``report`` writes Markdown with figures.
"""
