"""The library gallery: a virtualised grid (model, view, delegate) with off-thread thumbnails."""
