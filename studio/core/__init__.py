"""Domain code. Nothing below this package imports Qt; every module runs headless."""
