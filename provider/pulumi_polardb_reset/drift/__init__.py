"""Drift layer: the one place that speaks SQL (the privileged account's grants and login)."""
