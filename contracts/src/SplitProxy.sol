// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title SplitProxy
/// @notice Deploys the split clones: an EIP-1167-style proxy with immutable args whose plain
/// ETH path needs no DELEGATECALL, so a split can be paid with Solidity's `transfer` and
/// `send` (2,300 gas). A DELEGATECALL to a cold implementation alone costs 2,600 gas, more
/// than that stipend; 0xSplits' SplitMain proxy handles `receive` in the proxy for the same
/// reason. Here, empty calldata logs `ReceiveETH(uint256 amount)` (about 1,100 gas) and stops;
/// any other call is delegated to the implementation like a plain EIP-1167 clone.
/// @dev Runtime (91 bytes), then the immutable args:
///   0x00 36         CALLDATASIZE
///   0x01 602d 57    PUSH1 0x2d, JUMPI          calldata -> the delegating path
///   0x04 34 5f 52   CALLVALUE, PUSH0, MSTORE   memory[0..32] = msg.value
///   0x07 7f <topic> PUSH32 keccak256("ReceiveETH(uint256)")
///   0x28 6020 5f a1 PUSH1 0x20, PUSH0, LOG1
///   0x2c 00         STOP
///   0x2d 5b         JUMPDEST
///   0x2e <EIP-1167 runtime, its return jump moved from 0x2b to 0x59>
library SplitProxy {
    bytes32 internal constant RECEIVE_ETH = keccak256("ReceiveETH(uint256)");
    uint256 internal constant RUNTIME_SIZE = 0x5b;

    error DeployFailed();
    error NotASplitProxy(address instance);

    /// @dev Creation code: copy runtime + args to memory and return them.
    function initCode(address implementation, bytes memory args)
        internal
        pure
        returns (bytes memory)
    {
        uint256 size = RUNTIME_SIZE + args.length;
        return abi.encodePacked(
            hex"61",
            uint16(size), // forge-lint: disable-line(unsafe-typecast) -- args are < 1,300 bytes
            hex"80600a5f395ff3", // DUP1 PUSH1 0x0a PUSH0 CODECOPY PUSH0 RETURN
            hex"36602d57345f527f",
            RECEIVE_ETH,
            hex"60205fa1005b",
            hex"363d3d373d3d3d363d73",
            implementation,
            hex"5af43d82803e903d91605957fd5bf3",
            args
        );
    }

    function deploy(address implementation, bytes memory args, bytes32 salt)
        internal
        returns (address instance)
    {
        bytes memory code = initCode(implementation, args);
        assembly ("memory-safe") {
            instance := create2(0, add(code, 0x20), mload(code), salt)
        }
        if (instance == address(0)) revert DeployFailed();
    }

    function predict(address implementation, bytes memory args, bytes32 salt, address deployer)
        internal
        pure
        returns (address)
    {
        bytes32 digest = keccak256(
            abi.encodePacked(
                bytes1(0xff), deployer, salt, keccak256(initCode(implementation, args))
            )
        );
        return address(uint160(uint256(digest)));
    }

    /// @notice The immutable args of a proxy deployed by `deploy`.
    function fetchArgs(address instance) internal view returns (bytes memory args) {
        uint256 codeSize = instance.code.length;
        if (codeSize < RUNTIME_SIZE) revert NotASplitProxy(instance);
        uint256 size = codeSize - RUNTIME_SIZE;
        args = new bytes(size);
        assembly ("memory-safe") {
            extcodecopy(instance, add(args, 0x20), RUNTIME_SIZE, size)
        }
    }
}
