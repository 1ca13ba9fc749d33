// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {CollectionFactory} from "../../src/CollectionFactory.sol";
import {StudioCollection} from "../../src/StudioCollection.sol";
import {Test, Vm} from "../utils/Test.sol";

/// @dev Owns one collection and mints, re-royalties and transfers at random, keeping its own
/// record of what every token's royalty should be.
contract CollectionHandler {
    Vm internal constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));

    StudioCollection public immutable collection;
    uint256[] public tokenIds;
    bytes32[] public hashes;
    address[] public receivers; // zero: follows the default
    uint256[] public bpsOf;
    address public defaultReceiver;
    uint256 public defaultBps;
    uint256 public duplicatesAccepted;

    constructor(CollectionFactory factory) {
        collection = StudioCollection(
            factory.createCollection(bytes32(0), "Inv", "INV", "", address(0x5017), 500)
        );
        (defaultReceiver, defaultBps) = (address(0x5017), 500);
    }

    function tokenCount() external view returns (uint256) {
        return tokenIds.length;
    }

    function mint(uint256 seed, uint256 bps, bool useDefault) external {
        bytes32 hash = keccak256(abi.encode(seed, tokenIds.length));
        address to = _eoa(seed);
        address receiver = useDefault ? address(0) : _eoa(seed >> 32);
        bps = useDefault ? 0 : bps % 10_000;
        uint256 id = collection.mint(to, "ipfs://x", hash, bytes32(0), receiver, bps);
        tokenIds.push(id);
        hashes.push(hash);
        receivers.push(receiver);
        bpsOf.push(bps);
    }

    function mintDuplicate(uint256 index) external {
        if (hashes.length == 0) return;
        bytes32 hash = hashes[index % hashes.length];
        try collection.mint(address(this), "ipfs://dup", hash, bytes32(0), address(0), 0) {
            ++duplicatesAccepted;
        } catch (bytes memory err) {
            // forge-lint: disable-next-line(unsafe-typecast) -- the selector is the first 4 bytes
            require(bytes4(err) == StudioCollection.ContentAlreadyMinted.selector, "wrong error");
        }
    }

    function setDefaultRoyalty(uint256 seed, uint256 bps) external {
        address receiver = _eoa(seed);
        bps = bps % 10_000;
        collection.setDefaultRoyalty(receiver, bps);
        (defaultReceiver, defaultBps) = (receiver, bps);
    }

    function transfer(uint256 index, uint256 seed) external {
        if (tokenIds.length == 0) return;
        uint256 id = tokenIds[index % tokenIds.length];
        address holder = collection.ownerOf(id);
        vm.prank(holder);
        collection.transferFrom(holder, _eoa(seed), id);
    }

    /// @dev Nonzero addresses with no code, so safe mints and transfers always succeed.
    function _eoa(uint256 seed) private pure returns (address) {
        return address(uint160(0x100000 + (seed % 1_000_000)));
    }
}

contract CollectionInvariantTest is Test {
    CollectionHandler internal handler;
    StudioCollection internal collection;

    function setUp() public {
        handler = new CollectionHandler(new CollectionFactory());
        collection = handler.collection();
        targetContract(address(handler));
    }

    /// royaltyInfo == (receiver, price * bps / 10000) for every token, at several prices.
    function invariant_royaltyInfoMatchesFormula() public view {
        uint256[5] memory prices = [uint256(0), 1, 9_999, 1.234567 ether, 2 ** 200 + 12_345];
        for (uint256 i = 0; i < handler.tokenCount(); ++i) {
            uint256 id = handler.tokenIds(i);
            address receiver = handler.receivers(i);
            uint256 bps = handler.bpsOf(i);
            if (receiver == address(0)) {
                (receiver, bps) = (handler.defaultReceiver(), handler.defaultBps());
            }
            for (uint256 p = 0; p < prices.length; ++p) {
                (address got, uint256 amount) = collection.royaltyInfo(id, prices[p]);
                assertEq(got, receiver, "royalty receiver");
                assertEq(amount, prices[p] * bps / 10_000, "royalty amount");
            }
        }
    }

    /// Hash and id map to each other, the supply counts mints, no hash was minted twice.
    function invariant_contentIndex() public view {
        uint256 n = handler.tokenCount();
        assertEq(collection.totalSupply(), n, "supply");
        assertEq(handler.duplicatesAccepted(), 0, "duplicate hash minted");
        for (uint256 i = 0; i < n; ++i) {
            bytes32 hash = handler.hashes(i);
            uint256 id = handler.tokenIds(i);
            assertEq(id, uint256(hash), "id is the content hash");
            assertEq(collection.tokenIdOf(hash), id, "tokenIdOf");
            assertEq(collection.contentHashOf(id), hash, "contentHashOf");
        }
    }
}
