// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {RoyaltySplitter} from "../src/RoyaltySplitter.sol";
import {SplitFactory} from "../src/SplitFactory.sol";
import {BenchToken} from "../src/bench/BenchToken.sol";
import {Test} from "./utils/Test.sol";

/// @dev A recipient that tries to re-enter `release` while being paid.
contract Reenterer {
    RoyaltySplitter public splitter;
    bool public reentryBlocked;
    bytes public reentryError;

    function setSplitter(RoyaltySplitter s) external {
        splitter = s;
    }

    receive() external payable {
        try splitter.release(address(this)) {}
        catch (bytes memory err) {
            reentryBlocked = true;
            reentryError = err;
        }
    }
}

/// @dev Pays like old marketplaces do: `transfer` and `send` forward only 2,300 gas.
contract Payer {
    function viaTransfer(address payable to, uint256 amount) external {
        to.transfer(amount);
    }

    function viaSend(address payable to, uint256 amount) external returns (bool) {
        return to.send(amount);
    }
}

/// @dev A recipient that refuses ETH.
contract Refuser {
    receive() external payable {
        revert("no thanks");
    }
}

contract SplitterTestBase is Test {
    SplitFactory internal factory;

    function setUp() public virtual {
        factory = new SplitFactory();
    }

    function _pair(address a, uint32 wa, address b, uint32 wb)
        internal
        pure
        returns (address[] memory r, uint32[] memory w)
    {
        r = new address[](2);
        w = new uint32[](2);
        (r[0], w[0], r[1], w[1]) = (a, wa, b, wb);
    }

    function _three() internal pure returns (address[] memory r, uint32[] memory w) {
        r = new address[](3);
        w = new uint32[](3);
        (r[0], r[1], r[2]) = (address(0x1001), address(0x1002), address(0x1003));
        (w[0], w[1], w[2]) = (333_333, 333_333, 333_334);
    }
}

contract SplitFactoryTest is SplitterTestBase {
    event SplitCreated(address indexed split, address[] recipients, uint32[] allocations);

    function test_predictMatchesCreateAndCreateIsIdempotent() public {
        (address[] memory r, uint32[] memory w) = _three();
        address predicted = factory.predict(r, w);
        assertEq(predicted.code.length, 0, "not yet deployed");
        vm.expectEmit(address(factory));
        emit SplitCreated(predicted, r, w);
        address first = factory.create(r, w);
        assertEq(first, predicted, "create == predict");
        assertEq(first.code.length, 91 + 3 * 24, "split proxy with immutable args");
        address second = factory.create(r, w);
        assertEq(second, first, "existing split returned");
    }

    function test_differentSplitsDifferentAddresses() public view {
        (address[] memory r, uint32[] memory w) = _pair(address(1), 500_000, address(2), 500_000);
        (address[] memory r2, uint32[] memory w2) = _pair(address(1), 500_001, address(2), 499_999);
        assertTrue(factory.predict(r, w) != factory.predict(r2, w2), "allocations matter");
        assertEq(
            factory.splitHash(r, w), keccak256(abi.encodePacked(r[0], w[0], r[1], w[1])), "hash"
        );
    }

    function test_refusals() public {
        address[] memory none = new address[](0);
        uint32[] memory noneW = new uint32[](0);
        vm.expectRevert(SplitFactory.NoRecipients.selector);
        factory.create(none, noneW);

        (address[] memory r, uint32[] memory w) = _pair(address(2), 500_000, address(1), 500_000);
        vm.expectRevert(abi.encodeWithSelector(SplitFactory.UnsortedRecipients.selector, 1));
        factory.create(r, w);

        (r, w) = _pair(address(1), 500_000, address(1), 500_000);
        vm.expectRevert(
            abi.encodeWithSelector(SplitFactory.DuplicateRecipient.selector, address(1))
        );
        factory.create(r, w);

        (r, w) = _pair(address(0), 500_000, address(1), 500_000);
        vm.expectRevert(SplitFactory.ZeroAddress.selector);
        factory.create(r, w);

        (r, w) = _pair(address(1), 0, address(2), 1_000_000);
        vm.expectRevert(abi.encodeWithSelector(SplitFactory.ZeroAllocation.selector, 0));
        factory.create(r, w);

        (r, w) = _pair(address(1), 500_000, address(2), 499_999);
        vm.expectRevert(abi.encodeWithSelector(SplitFactory.BadAllocationSum.selector, 999_999));
        factory.create(r, w);

        (r, w) = _pair(address(1), 500_000, address(2), 500_001);
        vm.expectRevert(abi.encodeWithSelector(SplitFactory.BadAllocationSum.selector, 1_000_001));
        factory.predict(r, w);

        w = new uint32[](1);
        w[0] = 1_000_000;
        vm.expectRevert(abi.encodeWithSelector(SplitFactory.LengthMismatch.selector, 2, 1));
        factory.create(r, w);

        r = new address[](51);
        w = new uint32[](51);
        vm.expectRevert(abi.encodeWithSelector(SplitFactory.TooManyRecipients.selector, 51, 50));
        factory.create(r, w);
    }

    function test_fiftyRecipientsIsTheLimit() public {
        address[] memory r = new address[](50);
        uint32[] memory w = new uint32[](50);
        for (uint256 i = 0; i < 50; ++i) {
            // forge-lint: disable-next-line(unsafe-typecast) -- small numbers
            r[i] = address(uint160(0x1000 + i));
            w[i] = 20_000;
        }
        RoyaltySplitter s = RoyaltySplitter(payable(factory.create(r, w)));
        (address[] memory got, uint32[] memory gotW) = s.recipients();
        assertEq(got.length, 50, "count");
        assertEq(got[49], r[49], "last");
        assertEq(gotW[49], 20_000, "last allocation");
        assertEq(s.allocationOf(r[17]), 20_000, "lookup");
    }

    function test_singleRecipient() public {
        address[] memory r = new address[](1);
        uint32[] memory w = new uint32[](1);
        (r[0], w[0]) = (address(0xBEEF), 1_000_000);
        RoyaltySplitter s = RoyaltySplitter(payable(factory.create(r, w)));
        vm.deal(address(s), 7);
        s.release(address(0xBEEF));
        assertEq(address(0xBEEF).balance, 7, "all of it");
    }
}

contract RoyaltySplitterTest is SplitterTestBase {
    RoyaltySplitter internal splitter;
    BenchToken internal token;
    address internal constant A = address(0x1001);
    address internal constant B = address(0x1002);
    address internal constant C = address(0x1003);

    event PaymentReleased(address indexed token, address indexed account, uint256 amount);
    event ReceiveETH(uint256 amount);

    function setUp() public override {
        super.setUp();
        (address[] memory r, uint32[] memory w) = _three();
        splitter = RoyaltySplitter(payable(factory.create(r, w)));
        token = new BenchToken();
    }

    function _pay(uint256 amount) internal {
        vm.deal(address(this), amount);
        (bool ok,) = address(splitter).call{value: amount}("");
        assertTrue(ok, "payment accepted");
    }

    /// Paid with Solidity's `transfer` and `send` (2,300 gas), cold, as a marketplace would.
    function test_transferAndSendWithinTheStipend() public {
        Payer payer = new Payer();
        vm.deal(address(payer), 3 ether);
        vm.expectEmit(address(splitter));
        emit ReceiveETH(1 ether);
        payer.viaTransfer(payable(address(splitter)), 1 ether);
        assertTrue(payer.viaSend(payable(address(splitter)), 2 ether), "send accepted");
        assertEq(splitter.totalReceived(), 3 ether, "both counted");
        splitter.release(C);
        assertEq(C.balance, 1.000002 ether, "C's share");
    }

    function test_callsWithDataStillReachTheSplitter() public {
        vm.deal(address(this), 1 ether);
        (bool ok,) = address(splitter).call{value: 1 ether}(hex"12345678");
        assertTrue(!ok, "unknown selector refused");
        assertEq(splitter.totalReceived(), 0, "nothing received");
    }

    function test_views() public view {
        (address[] memory r, uint32[] memory w) = splitter.recipients();
        assertEq(r.length, 3, "count");
        assertEq(r[0], A, "A");
        assertEq(w[2], 333_334, "C allocation");
        assertEq(splitter.allocationOf(B), 333_333, "B");
        assertEq(splitter.allocationOf(address(0x9999)), 0, "stranger");
        assertEq(splitter.allocationOf(address(0)), 0, "zero");
    }

    function test_releaseEthToEveryone() public {
        _pay(3 ether);
        assertEq(splitter.releasable(A), 0.999999 ether, "A due");
        vm.expectEmit(address(splitter));
        emit PaymentReleased(address(0), A, 0.999999 ether);
        splitter.release(A);
        vm.prank(address(0xDEAD)); // anyone may trigger a release
        splitter.release(B);
        splitter.release(C);
        assertEq(A.balance, 0.999999 ether, "A");
        assertEq(B.balance, 0.999999 ether, "B");
        assertEq(C.balance, 1.000002 ether, "C");
        assertEq(splitter.totalReleased(), 3 ether, "all released");
        assertEq(splitter.totalReceived(), 3 ether, "received");
        assertEq(address(splitter).balance, 0, "empty");
    }

    function test_roundingNeverOverpays() public {
        _pay(10); // 10 wei over thirds
        splitter.release(A);
        splitter.release(B);
        splitter.release(C);
        assertEq(A.balance, 3, "A floor");
        assertEq(B.balance, 3, "B floor");
        assertEq(C.balance, 3, "C floor");
        assertEq(address(splitter).balance, 1, "dust stays");
        _pay(2); // the dust joins later payments
        splitter.release(C);
        assertEq(C.balance, 4, "C catches up");
    }

    function test_laterPaymentsAccumulate() public {
        _pay(1 ether);
        splitter.release(A);
        _pay(2 ether);
        assertEq(splitter.releasable(A), 0.999999 ether - 0.333333 ether, "A second share");
        assertEq(splitter.released(A), 0.333333 ether, "A released");
        splitter.release(A);
        assertEq(A.balance, 0.999999 ether, "A total");
    }

    function test_releaseErc20() public {
        token.mint(address(splitter), 1_000_000);
        assertEq(splitter.releasable(IERC20(address(token)), C), 333_334, "C due");
        vm.expectEmit(address(splitter));
        emit PaymentReleased(address(token), C, 333_334);
        splitter.release(IERC20(address(token)), C);
        splitter.release(IERC20(address(token)), A);
        assertEq(token.balanceOf(C), 333_334, "C");
        assertEq(token.balanceOf(A), 333_333, "A");
        assertEq(splitter.released(IERC20(address(token)), A), 333_333, "ledger");
        assertEq(splitter.totalReleased(IERC20(address(token))), 666_667, "total");
        assertEq(splitter.totalReceived(IERC20(address(token))), 1_000_000, "received");
        // ETH and token ledgers are separate.
        assertEq(splitter.totalReleased(), 0, "no ETH released");
    }

    function test_releaseRefusals() public {
        vm.expectRevert(
            abi.encodeWithSelector(RoyaltySplitter.NothingToRelease.selector, address(0), A)
        );
        splitter.release(A);
        _pay(1 ether);
        vm.expectRevert(
            abi.encodeWithSelector(RoyaltySplitter.NotRecipient.selector, address(0xDEAD))
        );
        splitter.release(address(0xDEAD));
        vm.expectRevert(RoyaltySplitter.ZeroAddress.selector);
        splitter.release(IERC20(address(0)), A);
        splitter.release(A);
        vm.expectRevert(
            abi.encodeWithSelector(RoyaltySplitter.NothingToRelease.selector, address(0), A)
        );
        splitter.release(A);
    }

    function test_implementationRefusesDirectUse() public {
        RoyaltySplitter impl = RoyaltySplitter(payable(factory.implementation()));
        vm.expectRevert(RoyaltySplitter.NotAClone.selector);
        impl.release(A);
        vm.expectRevert(RoyaltySplitter.NotAClone.selector);
        impl.recipients();
        vm.deal(address(this), 1);
        (bool ok,) = address(impl).call{value: 1}("");
        assertTrue(!ok, "implementation refuses ETH");
    }

    function test_reentrancyIsBlocked() public {
        Reenterer evil = new Reenterer();
        Reenterer other = new Reenterer();
        (Reenterer lo, Reenterer hi) =
            address(evil) < address(other) ? (evil, other) : (other, evil);
        (address[] memory r, uint32[] memory w) = _pair(address(lo), 500_000, address(hi), 500_000);
        RoyaltySplitter s = RoyaltySplitter(payable(factory.create(r, w)));
        evil.setSplitter(s);
        vm.deal(address(s), 2 ether);
        s.release(address(evil));
        assertTrue(evil.reentryBlocked(), "re-entry refused");
        assertEq(
            keccak256(evil.reentryError()),
            keccak256(
                abi.encodeWithSelector(
                    ReentrancyGuardTransient.ReentrancyGuardReentrantCall.selector
                )
            ),
            "guard error"
        );
        assertEq(address(evil).balance, 1 ether, "paid once");
        assertEq(address(s).balance, 1 ether, "other share intact");
    }

    function test_refusingRecipientDoesNotBlockOthers() public {
        Refuser refuser = new Refuser();
        (address[] memory r, uint32[] memory w) = address(refuser) < A
            ? _pair(address(refuser), 500_000, A, 500_000)
            : _pair(A, 500_000, address(refuser), 500_000);
        RoyaltySplitter s = RoyaltySplitter(payable(factory.create(r, w)));
        vm.deal(address(s), 2 ether);
        vm.expectRevert(bytes("no thanks"));
        s.release(address(refuser));
        s.release(A);
        assertEq(A.balance, 1 ether, "A paid");
        assertEq(s.releasable(address(refuser)), 1 ether, "refuser's share waits");
    }

    // ------------------------------------------------------------ fuzz

    /// @dev Random split of up to 50 recipients, random amounts: everyone gets exactly the
    /// floor of their share, and the dust left is below the number of recipients.
    function testFuzz_randomSplitPaysFloorShares(uint256 seed, uint8 count, uint128 amount) public {
        uint256 n = bound(count, 1, 50);
        address[] memory r = new address[](n);
        uint32[] memory w = new uint32[](n);
        uint256 left = 1_000_000;
        for (uint256 i = 0; i < n; ++i) {
            // forge-lint: disable-next-line(unsafe-typecast) -- small numbers
            r[i] = address(uint160(0x10000 + i * 7919 + (seed % 1000)));
            if (i == n - 1) {
                // forge-lint: disable-next-line(unsafe-typecast) -- left <= 1e6
                w[i] = uint32(left);
            } else {
                uint256 maxHere = left - (n - 1 - i); // keep one unit for each later recipient
                w[i] = uint32(bound(uint256(keccak256(abi.encode(seed, i))), 1, maxHere / 2 + 1));
                left -= w[i];
            }
        }
        RoyaltySplitter s = RoyaltySplitter(payable(factory.create(r, w)));
        vm.deal(address(s), amount);
        token.mint(address(s), amount);
        uint256 paid = 0;
        for (uint256 i = 0; i < n; ++i) {
            uint256 expected = uint256(amount) * w[i] / 1_000_000;
            if (expected != 0) {
                s.release(r[i]);
                s.release(IERC20(address(token)), r[i]);
            }
            assertEq(r[i].balance, expected, "eth share");
            assertEq(token.balanceOf(r[i]), expected, "token share");
            paid += expected;
        }
        assertEq(address(s).balance, amount - paid, "eth dust");
        assertLe(amount - paid, n - 1, "dust below one wei per recipient");
        assertEq(token.balanceOf(address(s)), amount - paid, "token dust");
    }
}
