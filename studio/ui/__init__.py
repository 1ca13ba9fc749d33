"""Qt widgets. They call core through small view-models and never block the GUI thread."""
