// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Clones} from "@openzeppelin/contracts/proxy/Clones.sol";
import {StudioCollection} from "./StudioCollection.sol";

/// @title CollectionFactory
/// @notice Deploys one `StudioCollection` per creator call as an EIP-1167 clone.
/// @dev CREATE2 with the salt bound to the caller: the app can persist (creator, salt) before
/// sending and find the collection after a crash, and nobody can take a creator's address.
contract CollectionFactory {
    address public immutable implementation;

    event CollectionCreated(address indexed owner, address indexed collection, bytes32 salt);

    error CollectionExists(address collection);

    constructor() {
        implementation = address(new StudioCollection());
    }

    /// @notice Create a collection owned by the caller; a salt can be used once per creator.
    function createCollection(
        bytes32 salt,
        string calldata name,
        string calldata symbol,
        string calldata contractURI,
        address royaltyReceiver,
        uint256 royaltyBps
    ) external returns (address collection) {
        bytes32 key = _salt(msg.sender, salt);
        // A CREATE2 collision would burn all the gas given to it: refuse cheaply first.
        collection = Clones.predictDeterministicAddress(implementation, key);
        if (collection.code.length != 0) revert CollectionExists(collection);
        Clones.cloneDeterministic(implementation, key);
        StudioCollection(collection)
            .initialize(msg.sender, name, symbol, contractURI, royaltyReceiver, royaltyBps);
        emit CollectionCreated(msg.sender, collection, salt);
    }

    /// @notice Address `createCollection(salt, ...)` yields (or yielded) for `creator`.
    function predictCollection(address creator, bytes32 salt) external view returns (address) {
        return Clones.predictDeterministicAddress(implementation, _salt(creator, salt));
    }

    function _salt(address creator, bytes32 salt) private pure returns (bytes32) {
        return keccak256(abi.encode(creator, salt));
    }
}
