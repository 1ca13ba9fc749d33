// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {RoyaltySplitter} from "./RoyaltySplitter.sol";
import {SplitProxy} from "./SplitProxy.sol";

/// @title SplitFactory
/// @notice Deploys `RoyaltySplitter` proxies at CREATE2 addresses keyed by the split itself, so
/// one (recipients, allocations) pair always resolves to one address, on every chain where
/// this factory sits at the same address.
/// @dev The split lives in the proxy's code as immutable args (no storage writes at creation),
/// which keeps a 3-recipient split far under 200k gas. The proxy (`SplitProxy`) takes plain
/// ETH itself, within the 2,300-gas stipend of `transfer`/`send`.
contract SplitFactory {
    uint256 public constant TOTAL_ALLOCATION = 1e6;
    uint256 public constant MAX_RECIPIENTS = 50;
    uint256 private constant ENTRY_SIZE = 24;

    address public immutable implementation;

    event SplitCreated(address indexed split, address[] recipients, uint32[] allocations);

    error NoRecipients();
    error TooManyRecipients(uint256 count, uint256 max);
    error LengthMismatch(uint256 recipients, uint256 allocations);
    error ZeroAddress();
    error UnsortedRecipients(uint256 index);
    error DuplicateRecipient(address account);
    error ZeroAllocation(uint256 index);
    error BadAllocationSum(uint256 sum);

    constructor() {
        implementation = address(new RoyaltySplitter());
    }

    /// @notice Deploy the split, or return its address when it already exists.
    function create(address[] calldata recipients, uint32[] calldata allocations)
        external
        returns (address split)
    {
        bytes memory args = _encode(recipients, allocations);
        split = SplitProxy.predict(implementation, args, keccak256(args), address(this));
        if (split.code.length != 0) return split;
        SplitProxy.deploy(implementation, args, keccak256(args));
        emit SplitCreated(split, recipients, allocations);
    }

    /// @notice The address of a split, deployed or not. Reverts on an invalid split.
    function predict(address[] calldata recipients, uint32[] calldata allocations)
        external
        view
        returns (address)
    {
        bytes memory args = _encode(recipients, allocations);
        return SplitProxy.predict(implementation, args, keccak256(args), address(this));
    }

    /// @notice The CREATE2 salt: keccak256 of the packed (recipient, allocation) entries.
    function splitHash(address[] calldata recipients, uint32[] calldata allocations)
        external
        pure
        returns (bytes32)
    {
        return keccak256(_encode(recipients, allocations));
    }

    /// @dev Validates the split and packs it as the clone's immutable args.
    function _encode(address[] calldata recipients, uint32[] calldata allocations)
        private
        pure
        returns (bytes memory args)
    {
        uint256 n = recipients.length;
        if (n == 0) revert NoRecipients();
        if (n > MAX_RECIPIENTS) revert TooManyRecipients(n, MAX_RECIPIENTS);
        if (allocations.length != n) revert LengthMismatch(n, allocations.length);
        if (recipients[0] == address(0)) revert ZeroAddress();

        // 8 spare bytes: each entry is written as a full word that spills into the next one.
        args = new bytes(n * ENTRY_SIZE + 8);
        uint256 sum = 0;
        for (uint256 i = 0; i < n; ++i) {
            address account = recipients[i];
            uint256 allocation = allocations[i];
            if (i != 0) {
                address previous = recipients[i - 1];
                if (account == previous) revert DuplicateRecipient(account);
                if (account < previous) revert UnsortedRecipients(i);
            }
            if (allocation == 0) revert ZeroAllocation(i);
            sum += allocation;
            assembly ("memory-safe") {
                mstore(
                    add(add(args, 0x20), mul(i, ENTRY_SIZE)),
                    or(shl(96, account), shl(64, allocation))
                )
            }
        }
        if (sum != TOTAL_ALLOCATION) revert BadAllocationSum(sum);
        assembly ("memory-safe") {
            mstore(args, mul(n, ENTRY_SIZE))
        }
    }
}
