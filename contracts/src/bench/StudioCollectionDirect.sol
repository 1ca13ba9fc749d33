// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {StudioCollection} from "../StudioCollection.sol";

/// @notice Gas comparison only (bench/gas.py): the full collection deployed without a factory.
contract StudioCollectionDirect is StudioCollection {
    constructor(
        string memory name_,
        string memory symbol_,
        string memory contractURI_,
        address royaltyReceiver,
        uint256 royaltyBps
    ) {
        _initialize(msg.sender, name_, symbol_, contractURI_, royaltyReceiver, royaltyBps);
    }
}
