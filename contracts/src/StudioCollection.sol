// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {IERC2981} from "@openzeppelin/contracts/interfaces/IERC2981.sol";
import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

/// @title StudioCollection
/// @notice One creator's ERC-721 collection with ERC-2981 royalties, where every token is one
/// piece of media: the token id IS the media's sha256 (`contentHash`), like ENS ids are label
/// hashes. A file therefore leads to its token with no index (`tokenIdOf`), and the same
/// media can never be minted twice in one collection.
/// @dev Deployed as EIP-1167 clones by `CollectionFactory`, so state is set by `initialize`
/// (once) instead of a constructor; the implementation locks itself in its constructor.
/// Strings are stored as bare 32-byte words with their length packed into a slot that is
/// written anyway, and content-addressed ids need neither a hash->id nor an id->hash slot:
/// a mint stores one slot fewer than a plain OpenZeppelin ERC721URIStorage + ERC2981 mint,
/// which pays for the clone's delegatecall and the `ContentMinted` event.
contract StudioCollection is ERC721, IERC2981 {
    uint256 public constant FEE_DENOMINATOR = 10_000;
    /// @notice Royalties stay below 100 % of the sale (Manifold's rule): a royalty that takes
    /// the whole price would leave the seller nothing and marketplaces refuse it.
    uint256 public constant MAX_ROYALTY_BPS = FEE_DENOMINATOR - 1;

    /// @dev One slot, read by every owner check, so the writes next to it are warm.
    struct Admin {
        address owner;
        uint64 totalSupply;
        uint16 contractURILength;
        bool initialized;
    }

    struct Royalty {
        address receiver;
        uint16 bps;
    }

    /// @dev A zero `royaltyReceiver` means "follow the collection default".
    struct TokenData {
        address royaltyReceiver;
        uint16 royaltyBps;
        uint16 uriLength;
    }

    Admin private _admin;
    Royalty private _defaultRoyalty;
    /// @dev Two-step ownership: the new owner must accept, so a typo cannot lose the collection.
    address private _pendingOwner;
    string private _collectionName;
    string private _collectionSymbol;
    mapping(uint256 word => bytes32) private _contractURIWords;
    mapping(uint256 tokenId => TokenData) private _tokens;
    mapping(uint256 tokenId => mapping(uint256 word => bytes32)) private _uriWords;

    /// @notice Every mint, indexed by content hash and by the watermark's soft-binding id
    /// (zero when none), so a file or a watermark leads to its tokens through `eth_getLogs`.
    event ContentMinted(
        bytes32 indexed contentHash, uint256 indexed tokenId, bytes32 indexed softBindingId
    );
    event OwnershipTransferStarted(address indexed previousOwner, address indexed newOwner);
    event OwnershipTransferred(address indexed previousOwner, address indexed newOwner);
    event DefaultRoyaltyUpdated(address indexed receiver, uint256 bps);
    /// @dev ERC-7572.
    event ContractURIUpdated();

    error AlreadyInitialized();
    error NotOwner(address account);
    error NotPendingOwner(address account);
    error ZeroAddress();
    error ZeroContentHash();
    error RoyaltyTooHigh(uint256 bps);
    error ContentAlreadyMinted(bytes32 contentHash);
    error URITooLong(uint256 length);

    constructor() ERC721("", "") {
        _admin.initialized = true;
    }

    modifier onlyOwner() {
        if (msg.sender != _admin.owner) revert NotOwner(msg.sender);
        _;
    }

    /// @notice Set up a fresh clone. Callable exactly once per clone; never on the implementation.
    function initialize(
        address owner_,
        string calldata name_,
        string calldata symbol_,
        string calldata contractURI_,
        address royaltyReceiver,
        uint256 royaltyBps
    ) external {
        if (_admin.initialized) revert AlreadyInitialized();
        _initialize(owner_, name_, symbol_, contractURI_, royaltyReceiver, royaltyBps);
    }

    function _initialize(
        address owner_,
        string memory name_,
        string memory symbol_,
        string memory contractURI_,
        address royaltyReceiver,
        uint256 royaltyBps
    ) internal {
        if (owner_ == address(0)) revert ZeroAddress();
        _admin = Admin({
            owner: owner_,
            totalSupply: 0,
            contractURILength: _length(bytes(contractURI_)),
            initialized: true
        });
        _collectionName = name_;
        _collectionSymbol = symbol_;
        _storeWords(_contractURIWords, bytes(contractURI_));
        if (royaltyReceiver != address(0) || royaltyBps != 0) {
            _setDefaultRoyalty(royaltyReceiver, royaltyBps);
        }
        emit OwnershipTransferred(address(0), owner_);
    }

    // ---------------------------------------------------------------- minting

    /// @notice Mint the token for the media whose sha256 is `contentHash`; its id is
    /// `uint256(contentHash)`. `softBindingId` is the id of a watermark embedded in the media
    /// (zero when none), recorded in `ContentMinted`. `royaltyReceiver == 0` (with bps 0)
    /// makes the token follow the collection's default royalty.
    function mint(
        address to,
        string calldata tokenURI_,
        bytes32 contentHash,
        bytes32 softBindingId,
        address royaltyReceiver,
        uint256 royaltyBps
    ) external returns (uint256 tokenId) {
        Admin memory admin = _admin;
        if (msg.sender != admin.owner) revert NotOwner(msg.sender);
        if (contentHash == bytes32(0)) revert ZeroContentHash();
        tokenId = uint256(contentHash);
        // This read warms the owner slot that _safeMint writes, so the check is nearly free.
        if (_ownerOf(tokenId) != address(0)) revert ContentAlreadyMinted(contentHash);
        _checkRoyalty(royaltyReceiver, royaltyBps);
        uint16 uriLength = _length(bytes(tokenURI_));

        _admin.totalSupply = admin.totalSupply + 1;
        // forge-lint: disable-next-line(unsafe-typecast) -- bps < 10_000, checked above
        _tokens[tokenId] = TokenData(royaltyReceiver, uint16(royaltyBps), uriLength);
        _storeWords(_uriWords[tokenId], bytes(tokenURI_));
        emit ContentMinted(contentHash, tokenId, softBindingId);
        _safeMint(to, tokenId); // last: it may call into `to`
    }

    // ---------------------------------------------------------------- views

    function name() public view override returns (string memory) {
        return _collectionName;
    }

    function symbol() public view override returns (string memory) {
        return _collectionSymbol;
    }

    function owner() external view returns (address) {
        return _admin.owner;
    }

    /// @notice The account that may `acceptOwnership` (zero when no transfer is under way).
    function pendingOwner() external view returns (address) {
        return _pendingOwner;
    }

    /// @notice Number of tokens minted (there is no burn).
    function totalSupply() external view returns (uint256) {
        return _admin.totalSupply;
    }

    /// @notice Collection-level metadata (ERC-7572).
    function contractURI() external view returns (string memory) {
        return _loadWords(_contractURIWords, _admin.contractURILength);
    }

    function defaultRoyalty() external view returns (address receiver, uint256 bps) {
        Royalty memory royalty = _defaultRoyalty;
        return (royalty.receiver, royalty.bps);
    }

    /// @notice The token holding the media with this sha256, or 0 when none does.
    function tokenIdOf(bytes32 contentHash) external view returns (uint256) {
        uint256 tokenId = uint256(contentHash);
        return _ownerOf(tokenId) != address(0) ? tokenId : 0;
    }

    /// @notice The sha256 of the media behind `tokenId` (reverts for an unminted id).
    function contentHashOf(uint256 tokenId) external view returns (bytes32) {
        _requireOwned(tokenId);
        return bytes32(tokenId);
    }

    function tokenURI(uint256 tokenId) public view override returns (string memory) {
        _requireOwned(tokenId);
        return _loadWords(_uriWords[tokenId], _tokens[tokenId].uriLength);
    }

    /// @inheritdoc IERC2981
    function royaltyInfo(uint256 tokenId, uint256 salePrice)
        external
        view
        returns (address receiver, uint256 royaltyAmount)
    {
        // Unknown tokens have empty data and fall back to the default, as in OpenZeppelin.
        TokenData memory data = _tokens[tokenId];
        uint256 bps;
        if (data.royaltyReceiver != address(0)) {
            (receiver, bps) = (data.royaltyReceiver, data.royaltyBps);
        } else {
            Royalty memory royalty = _defaultRoyalty;
            (receiver, bps) = (royalty.receiver, royalty.bps);
        }
        royaltyAmount = Math.mulDiv(salePrice, bps, FEE_DENOMINATOR);
    }

    function supportsInterface(bytes4 interfaceId)
        public
        view
        override(ERC721, IERC165)
        returns (bool)
    {
        return interfaceId == type(IERC2981).interfaceId || super.supportsInterface(interfaceId);
    }

    // ---------------------------------------------------------------- owner actions

    /// @notice Offer the collection to `newOwner`, who becomes owner on `acceptOwnership`.
    /// Offering it to zero cancels a pending offer.
    function transferOwnership(address newOwner) external onlyOwner {
        _pendingOwner = newOwner;
        emit OwnershipTransferStarted(_admin.owner, newOwner);
    }

    function acceptOwnership() external {
        if (_pendingOwner == address(0) || msg.sender != _pendingOwner) {
            revert NotPendingOwner(msg.sender);
        }
        emit OwnershipTransferred(_admin.owner, msg.sender);
        _admin.owner = msg.sender;
        delete _pendingOwner;
    }

    function setContractURI(string calldata contractURI_) external onlyOwner {
        _admin.contractURILength = _length(bytes(contractURI_));
        _storeWords(_contractURIWords, bytes(contractURI_));
        emit ContractURIUpdated();
    }

    /// @notice Change the royalty of every token minted without its own receiver.
    function setDefaultRoyalty(address receiver, uint256 bps) external onlyOwner {
        _setDefaultRoyalty(receiver, bps);
    }

    // ---------------------------------------------------------------- internals

    function _setDefaultRoyalty(address receiver, uint256 bps) private {
        _checkRoyalty(receiver, bps);
        // forge-lint: disable-next-line(unsafe-typecast) -- bps < 10_000, checked above
        _defaultRoyalty = Royalty(receiver, uint16(bps));
        emit DefaultRoyaltyUpdated(receiver, bps);
    }

    /// @dev A receiver of zero is only allowed with zero bps ("no royalty" / "use default").
    function _checkRoyalty(address receiver, uint256 bps) private pure {
        if (bps > MAX_ROYALTY_BPS) revert RoyaltyTooHigh(bps);
        if (receiver == address(0) && bps != 0) revert ZeroAddress();
    }

    function _length(bytes memory text) private pure returns (uint16) {
        if (text.length > type(uint16).max) revert URITooLong(text.length);
        // forge-lint: disable-next-line(unsafe-typecast) -- range checked above
        return uint16(text.length);
    }

    /// @dev Whole words; the last one is masked so no stray memory past the end is stored.
    /// Words left over from a longer earlier value are never read (reads stop at the length).
    function _storeWords(mapping(uint256 => bytes32) storage words, bytes memory text) private {
        uint256 length = text.length;
        for (uint256 offset = 0; offset < length; offset += 32) {
            bytes32 word;
            assembly ("memory-safe") {
                word := mload(add(add(text, 0x20), offset))
            }
            if (length - offset < 32) {
                word &= ~bytes32(type(uint256).max >> ((length - offset) << 3));
            }
            words[offset >> 5] = word;
        }
    }

    function _loadWords(mapping(uint256 => bytes32) storage words, uint256 length)
        private
        view
        returns (string memory text)
    {
        text = new string(length); // the allocation is rounded up to whole words
        for (uint256 i = 0; i < (length + 31) >> 5; ++i) {
            bytes32 word = words[i];
            assembly ("memory-safe") {
                mstore(add(add(text, 0x20), shl(5, i)), word)
            }
        }
    }
}
