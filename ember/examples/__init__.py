"""Runnable examples: ``python -m ember.examples.digits``."""
