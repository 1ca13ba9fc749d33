"""Helpers for the Generate section."""
