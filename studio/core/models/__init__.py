"""The model manager: downloads from Hugging Face (through huggingface_hub) or a URL, the
curated starter list, and the hub access token in the OS keyring."""
