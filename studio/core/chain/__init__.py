"""Chain access: contract artifacts, the local anvil node, transactions and minting."""
