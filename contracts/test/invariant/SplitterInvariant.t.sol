// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {RoyaltySplitter} from "../../src/RoyaltySplitter.sol";
import {SplitFactory} from "../../src/SplitFactory.sol";
import {BenchToken} from "../../src/bench/BenchToken.sol";
import {Test, Vm} from "../utils/Test.sol";

/// @dev Drives payments and releases across several splitters while keeping independent
/// books (ghost variables) of what each splitter received and what each recipient got.
contract SplitterHandler {
    Vm internal constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));

    BenchToken public immutable token;
    RoyaltySplitter[] public splitters;
    mapping(address splitter => address[]) internal _recipients;
    mapping(address splitter => uint256) public ethReceived;
    mapping(address splitter => uint256) public tokenReceived;
    uint256 public releases;

    constructor(SplitFactory factory, BenchToken token_) {
        token = token_;
        // Awkward splits on purpose: thirds, a 7-way with odd units, and a 1-unit sliver.
        uint32[3] memory thirds = [uint32(333_333), 333_333, 333_334];
        uint32[7] memory seven = [uint32(1), 10_007, 99_991, 123_457, 250_000, 300_001, 216_543];
        uint32[2] memory sliver = [uint32(1), 999_999];
        _add(factory, _toDynamic3(thirds), 0x1000);
        _add(factory, _toDynamic7(seven), 0x2000);
        _add(factory, _toDynamic2(sliver), 0x3000);
    }

    function _add(SplitFactory factory, uint32[] memory allocations, uint160 base) private {
        address[] memory r = new address[](allocations.length);
        for (uint160 i = 0; i < allocations.length; ++i) {
            r[i] = address(base + i * 17);
        }
        RoyaltySplitter s = RoyaltySplitter(payable(factory.create(r, allocations)));
        splitters.push(s);
        _recipients[address(s)] = r;
    }

    function splitterCount() external view returns (uint256) {
        return splitters.length;
    }

    function recipientsOf(RoyaltySplitter s) external view returns (address[] memory) {
        return _recipients[address(s)];
    }

    // ------------------------------------------------------------ actions

    function payEth(uint256 which, uint256 amount) external {
        RoyaltySplitter s = _pick(which);
        amount = _amount(amount);
        vm.deal(address(this), amount);
        (bool ok,) = address(s).call{value: amount}("");
        require(ok, "splitter refused ETH");
        ethReceived[address(s)] += amount;
    }

    function payToken(uint256 which, uint256 amount) external {
        RoyaltySplitter s = _pick(which);
        amount = _amount(amount);
        token.mint(address(this), amount);
        require(token.transfer(address(s), amount), "transfer failed");
        tokenReceived[address(s)] += amount;
    }

    function releaseEth(uint256 which, uint256 who) external {
        RoyaltySplitter s = _pick(which);
        address account = _who(s, who);
        uint256 due = s.releasable(account);
        if (due == 0) return;
        uint256 before = account.balance;
        require(s.release(account) == due, "released != releasable");
        require(account.balance == before + due, "recipient not paid what was due");
        ++releases;
    }

    function releaseToken(uint256 which, uint256 who) external {
        RoyaltySplitter s = _pick(which);
        address account = _who(s, who);
        IERC20 t = IERC20(address(token));
        uint256 due = s.releasable(t, account);
        if (due == 0) return;
        uint256 before = token.balanceOf(account);
        require(s.release(t, account) == due, "released != releasable");
        require(token.balanceOf(account) == before + due, "recipient not paid what was due");
        ++releases;
    }

    // ------------------------------------------------------------ input shaping

    function _pick(uint256 which) private view returns (RoyaltySplitter) {
        return splitters[which % splitters.length];
    }

    function _who(RoyaltySplitter s, uint256 who) private view returns (address) {
        address[] storage r = _recipients[address(s)];
        return r[who % r.length];
    }

    /// @dev Mostly tiny amounts (rounding is where bugs live), sometimes large ones.
    function _amount(uint256 raw) private pure returns (uint256) {
        if (raw % 3 == 0) return raw % 1_000_000_000 ether;
        return raw % 1_000;
    }
}

contract SplitterInvariantTest is Test {
    SplitterHandler internal handler;
    BenchToken internal token;

    function setUp() public {
        token = new BenchToken();
        handler = new SplitterHandler(new SplitFactory(), token);
        targetContract(address(handler));
    }

    /// released + balance == received, for ETH and for the token, in every splitter.
    function invariant_conservation() public view {
        IERC20 t = IERC20(address(token));
        for (uint256 k = 0; k < handler.splitterCount(); ++k) {
            RoyaltySplitter s = handler.splitters(k);
            assertEq(s.totalReleased() + address(s).balance, handler.ethReceived(address(s)), "eth");
            assertEq(
                s.totalReleased(t) + token.balanceOf(address(s)),
                handler.tokenReceived(address(s)),
                "token"
            );
        }
    }

    /// Nobody gets more than its allocation of the total; with pending amounts included,
    /// everyone is owed exactly the floor of its share, and the ledger matches real balances.
    function invariant_sharesNeverExceeded() public view {
        for (uint256 k = 0; k < handler.splitterCount(); ++k) {
            RoyaltySplitter s = handler.splitters(k);
            _checkShares(s, address(0), handler.ethReceived(address(s)));
            _checkShares(s, address(token), handler.tokenReceived(address(s)));
        }
    }

    function _checkShares(RoyaltySplitter s, address asset, uint256 received) private view {
        address[] memory r = handler.recipientsOf(s);
        IERC20 t = IERC20(asset);
        uint256 sumReleased = 0;
        uint256 sumOwed = 0;
        for (uint256 i = 0; i < r.length; ++i) {
            uint256 share = received * s.allocationOf(r[i]) / 1_000_000;
            uint256 got = asset == address(0) ? s.released(r[i]) : s.released(t, r[i]);
            uint256 pending = asset == address(0) ? s.releasable(r[i]) : s.releasable(t, r[i]);
            uint256 held = asset == address(0) ? r[i].balance : token.balanceOf(r[i]);
            assertLe(got, share, "released above share");
            assertEq(got + pending, share, "owed != floor share");
            assertEq(held, got, "ledger != recipient balance");
            sumReleased += got;
            sumOwed += share;
        }
        uint256 total = asset == address(0) ? s.totalReleased() : s.totalReleased(t);
        assertEq(sumReleased, total, "sum of released != totalReleased");
        assertLe(received - sumOwed, r.length - 1, "dust above one unit per recipient");
    }
}

function _toDynamic2(uint32[2] memory a) pure returns (uint32[] memory b) {
    b = new uint32[](2);
    for (uint256 i = 0; i < 2; ++i) {
        b[i] = a[i];
    }
}

function _toDynamic3(uint32[3] memory a) pure returns (uint32[] memory b) {
    b = new uint32[](3);
    for (uint256 i = 0; i < 3; ++i) {
        b[i] = a[i];
    }
}

function _toDynamic7(uint32[7] memory a) pure returns (uint32[] memory b) {
    b = new uint32[](7);
    for (uint256 i = 0; i < 7; ++i) {
        b[i] = a[i];
    }
}
