"""Provenance Studio: local generation, signed provenance, on-chain royalty splits."""

__version__ = "0.1.0"
APP_NAME = "Provenance Studio"
# platformdirs application name and keyring service name.
APP_ID = "provenance-studio"
