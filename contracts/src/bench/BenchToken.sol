// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @notice Test and bench ERC-20 that anyone can mint. Never deploy it anywhere real.
contract BenchToken is ERC20 {
    constructor() ERC20("Bench Token", "BENCH") {}

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }
}
