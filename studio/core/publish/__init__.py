"""Publishing: NFT metadata, IPFS CIDs computed locally, and CAR export."""
