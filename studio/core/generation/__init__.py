"""Local image generation: model registry, one worker thread owning the diffusers pipeline, a
job queue, previews, cancel, and the output step that stores (and, when wired, signs) PNGs.

Importing this package is cheap: torch and diffusers load inside the worker thread.
"""
