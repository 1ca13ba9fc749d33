// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Address} from "@openzeppelin/contracts/utils/Address.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SplitProxy} from "./SplitProxy.sol";

/// @title RoyaltySplitter
/// @notice Splits every ETH and ERC-20 payment it receives between fixed recipients, pull-style:
/// anyone may call `release` for a recipient, the money always goes to that recipient.
/// @dev Deployed only as a `SplitProxy` with immutable args by `SplitFactory`, which validates
/// them; the proxy takes plain ETH itself (emitting `ReceiveETH`) without calling in here.
/// The args are `n` packed 24-byte entries: recipient (20 bytes) then allocation (uint32),
/// recipients strictly ascending, allocations summing to 1e6. There is no owner and no way to
/// change the split. Accounting follows OpenZeppelin's PaymentSplitter: what an account may
/// take is floor(totalReceived * allocation / 1e6) minus what it already took, so rounding
/// never pays anyone more than their share (the dust, under one wei per recipient, stays).
/// Tokens that charge fees on transfer or rebase on their own are not supported exactly: the
/// books assume `transfer(amount)` moves `amount`.
contract RoyaltySplitter is ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    uint256 public constant TOTAL_ALLOCATION = 1e6;
    uint256 private constant ENTRY_SIZE = 24;
    /// @dev Key of the ETH ledger in the per-token mappings.
    address private constant ETH = address(0);

    address private immutable _self = address(this);

    mapping(address token => uint256) private _totalReleased;
    mapping(address token => mapping(address account => uint256)) private _released;

    /// @notice Emitted by the proxy (not by this code) for every plain ETH payment.
    event ReceiveETH(uint256 amount);
    /// @dev `token` is address(0) for ETH.
    event PaymentReleased(address indexed token, address indexed account, uint256 amount);

    error NotAClone();
    error NotRecipient(address account);
    error NothingToRelease(address token, address account);
    error ZeroAddress();

    /// @dev Reached only on the bare implementation (a proxy answers plain ETH itself), which
    /// refuses ETH that could never be released from it.
    receive() external payable {
        if (address(this) == _self) revert NotAClone();
    }

    // ---------------------------------------------------------------- release

    /// @notice Send `account` its share of the ETH received so far, less what it already took.
    function release(address account) external nonReentrant returns (uint256 amount) {
        amount = _book(ETH, account, address(this).balance);
        Address.sendValue(payable(account), amount);
    }

    /// @notice Send `account` its share of the `token` received so far.
    function release(IERC20 token, address account) external nonReentrant returns (uint256 amount) {
        if (address(token) == ETH) revert ZeroAddress();
        amount = _book(address(token), account, token.balanceOf(address(this)));
        token.safeTransfer(account, amount);
    }

    /// @dev Effects before interactions: the ledger is updated before any transfer.
    function _book(address token, address account, uint256 balance)
        private
        returns (uint256 amount)
    {
        uint256 allocation = _allocationOf(account);
        if (allocation == 0) revert NotRecipient(account);
        uint256 total = _totalReleased[token];
        uint256 already = _released[token][account];
        amount = _due(balance + total, allocation, already);
        if (amount == 0) revert NothingToRelease(token, account);
        _released[token][account] = already + amount;
        _totalReleased[token] = total + amount;
        emit PaymentReleased(token, account, amount);
    }

    // ---------------------------------------------------------------- views

    /// @notice The recipients (ascending) and their allocations (out of 1e6).
    function recipients()
        external
        view
        returns (address[] memory accounts, uint32[] memory allocations)
    {
        bytes memory args = _args();
        uint256 n = args.length / ENTRY_SIZE;
        accounts = new address[](n);
        allocations = new uint32[](n);
        for (uint256 i = 0; i < n; ++i) {
            (accounts[i], allocations[i]) = _entry(args, i);
        }
    }

    /// @notice `account`'s allocation out of 1e6; 0 when it is not a recipient.
    function allocationOf(address account) external view returns (uint256) {
        return _allocationOf(account);
    }

    function releasable(address account) external view returns (uint256) {
        return _releasable(ETH, account, address(this).balance);
    }

    function releasable(IERC20 token, address account) external view returns (uint256) {
        return _releasable(address(token), account, token.balanceOf(address(this)));
    }

    function released(address account) external view returns (uint256) {
        return _released[ETH][account];
    }

    function released(IERC20 token, address account) external view returns (uint256) {
        return _released[address(token)][account];
    }

    function totalReleased() external view returns (uint256) {
        return _totalReleased[ETH];
    }

    function totalReleased(IERC20 token) external view returns (uint256) {
        return _totalReleased[address(token)];
    }

    /// @notice All ETH ever received: current balance plus everything released.
    function totalReceived() external view returns (uint256) {
        return address(this).balance + _totalReleased[ETH];
    }

    function totalReceived(IERC20 token) external view returns (uint256) {
        return token.balanceOf(address(this)) + _totalReleased[address(token)];
    }

    // ---------------------------------------------------------------- internals

    function _releasable(address token, address account, uint256 balance)
        private
        view
        returns (uint256)
    {
        uint256 allocation = _allocationOf(account);
        if (allocation == 0) return 0;
        return _due(balance + _totalReleased[token], allocation, _released[token][account]);
    }

    /// @dev Floor of the share, so the sum over recipients never exceeds what came in. A token
    /// whose balance shrinks on its own (negative rebase) yields 0 here rather than a revert.
    function _due(uint256 received, uint256 allocation, uint256 already)
        private
        pure
        returns (uint256)
    {
        uint256 share = Math.mulDiv(received, allocation, TOTAL_ALLOCATION);
        return share > already ? share - already : 0;
    }

    function _args() private view returns (bytes memory) {
        // The bare implementation has no args; reading its own code as args would be nonsense.
        if (address(this) == _self) revert NotAClone();
        return SplitProxy.fetchArgs(address(this));
    }

    /// @dev Binary search: recipients are strictly ascending.
    function _allocationOf(address account) private view returns (uint256) {
        bytes memory args = _args();
        uint256 lo = 0;
        uint256 hi = args.length / ENTRY_SIZE;
        while (lo < hi) {
            uint256 mid = (lo + hi) >> 1;
            (address candidate, uint32 allocation) = _entry(args, mid);
            if (candidate == account) return allocation;
            if (candidate < account) lo = mid + 1;
            else hi = mid;
        }
        return 0;
    }

    function _entry(bytes memory args, uint256 i)
        private
        pure
        returns (address account, uint32 allocation)
    {
        assembly ("memory-safe") {
            let word := mload(add(add(args, 0x20), mul(i, ENTRY_SIZE)))
            account := shr(96, word)
            allocation := and(shr(64, word), 0xffffffff)
        }
    }
}
