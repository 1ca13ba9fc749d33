"""Subcommands of ``studio``. Each module: ``register(subparsers)``; handlers import lazily."""
