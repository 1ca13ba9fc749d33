// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC721Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {IERC721} from "@openzeppelin/contracts/token/ERC721/IERC721.sol";
import {IERC721Metadata} from "@openzeppelin/contracts/token/ERC721/extensions/IERC721Metadata.sol";
import {IERC2981} from "@openzeppelin/contracts/interfaces/IERC2981.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {CollectionFactory} from "../src/CollectionFactory.sol";
import {StudioCollection} from "../src/StudioCollection.sol";
import {Test} from "./utils/Test.sol";

/// @dev A contract that cannot hold NFTs (no onERC721Received).
contract NotAReceiver {}

contract StudioCollectionTest is Test {
    CollectionFactory internal factory;
    StudioCollection internal collection;

    address internal creator = address(0xC0FFEE);
    address internal stranger = address(0xBAD);
    address internal split = address(0x5017);
    address internal collector = address(0xA11CE);

    string internal constant URI =
        "ipfs://bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku";
    bytes32 internal constant HASH = keccak256("media bytes");

    event ContentMinted(
        bytes32 indexed contentHash, uint256 indexed tokenId, bytes32 indexed softBindingId
    );
    event OwnershipTransferStarted(address indexed previousOwner, address indexed newOwner);
    event OwnershipTransferred(address indexed previousOwner, address indexed newOwner);
    event CollectionCreated(address indexed owner, address indexed collection, bytes32 salt);

    function setUp() public {
        factory = new CollectionFactory();
        vm.prank(creator);
        collection = StudioCollection(
            factory.createCollection(bytes32(0), "Studio", "STU", "ipfs://contract", split, 500)
        );
    }

    // ------------------------------------------------------------ factory and init

    function test_factoryCreatesInitialisedClone() public view {
        assertEq(collection.owner(), creator, "owner");
        assertEq(collection.name(), "Studio", "name");
        assertEq(collection.symbol(), "STU", "symbol");
        assertEq(collection.contractURI(), "ipfs://contract", "contractURI");
        (address receiver, uint256 bps) = collection.defaultRoyalty();
        assertEq(receiver, split, "default receiver");
        assertEq(bps, 500, "default bps");
        // EIP-1167 minimal proxy: 45 bytes of runtime code.
        assertEq(address(collection).code.length, 45, "clone size");
    }

    function test_factoryEmitsOwnerAndAddress() public {
        address predicted = factory.predictCollection(stranger, bytes32(uint256(7)));
        vm.expectEmit(address(factory));
        emit CollectionCreated(stranger, predicted, bytes32(uint256(7)));
        vm.prank(stranger);
        address created = factory.createCollection(bytes32(uint256(7)), "A", "B", "", address(0), 0);
        assertEq(created, predicted, "predicted address");
        assertEq(StudioCollection(created).owner(), stranger, "caller owns it");
    }

    function test_factorySaltIsPerCreator() public {
        vm.prank(stranger);
        address other = factory.createCollection(bytes32(0), "A", "B", "", address(0), 0);
        assertTrue(other != address(collection), "same salt, other creator, other address");
        vm.prank(creator);
        vm.expectRevert(
            abi.encodeWithSelector(CollectionFactory.CollectionExists.selector, address(collection))
        );
        factory.createCollection(bytes32(0), "A", "B", "", address(0), 0);
    }

    function test_implementationIsLocked() public {
        StudioCollection impl = StudioCollection(factory.implementation());
        vm.expectRevert(StudioCollection.AlreadyInitialized.selector);
        impl.initialize(stranger, "x", "y", "", address(0), 0);
    }

    function test_cloneCannotBeReinitialised() public {
        vm.prank(creator);
        vm.expectRevert(StudioCollection.AlreadyInitialized.selector);
        collection.initialize(creator, "x", "y", "", address(0), 0);
        vm.expectRevert(StudioCollection.AlreadyInitialized.selector);
        collection.initialize(stranger, "x", "y", "", address(0), 0);
    }

    function test_initRefusals() public {
        vm.expectRevert(StudioCollection.ZeroAddress.selector);
        factory.createCollection(bytes32(uint256(1)), "A", "B", "", address(0), 1);
        vm.expectRevert(abi.encodeWithSelector(StudioCollection.RoyaltyTooHigh.selector, 10_001));
        factory.createCollection(bytes32(uint256(2)), "A", "B", "", split, 10_001);
    }

    // ------------------------------------------------------------ minting

    function test_mintRecordsEverything() public {
        vm.expectEmit(address(collection));
        emit ContentMinted(HASH, uint256(HASH), bytes32(0));
        vm.prank(creator);
        uint256 id = collection.mint(collector, URI, HASH, bytes32(0), split, 750);

        assertEq(id, uint256(HASH), "the id is the content hash");
        assertEq(collection.ownerOf(id), collector, "owner");
        assertEq(collection.balanceOf(collector), 1, "balance");
        assertEq(collection.tokenURI(id), URI, "uri");
        assertEq(collection.contentHashOf(id), HASH, "hash by id");
        assertEq(collection.tokenIdOf(HASH), id, "id by hash");
        assertEq(collection.totalSupply(), 1, "supply");
        (address receiver, uint256 amount) = collection.royaltyInfo(id, 1 ether);
        assertEq(receiver, split, "royalty receiver");
        assertEq(amount, 0.075 ether, "royalty amount");
    }

    function test_supplyCountsAndUnknownHashIsZero() public {
        vm.startPrank(creator);
        collection.mint(collector, URI, keccak256("a"), bytes32(0), address(0), 0);
        uint256 b = collection.mint(collector, "", keccak256("b"), bytes32(0), address(0), 0);
        vm.stopPrank();
        assertEq(collection.totalSupply(), 2, "supply");
        assertEq(collection.tokenURI(b), "", "empty uri");
        assertEq(collection.tokenIdOf(keccak256("unknown")), 0, "unknown hash");
    }

    function test_tokenWithoutReceiverFollowsDefault() public {
        vm.startPrank(creator);
        uint256 id = collection.mint(collector, URI, HASH, bytes32(0), address(0), 0);
        (address receiver, uint256 amount) = collection.royaltyInfo(id, 10_000);
        assertEq(receiver, split, "default receiver");
        assertEq(amount, 500, "default 5%");

        collection.setDefaultRoyalty(collector, 1_000);
        (receiver, amount) = collection.royaltyInfo(id, 10_000);
        assertEq(receiver, collector, "new default receiver");
        assertEq(amount, 1_000, "new default 10%");
        vm.stopPrank();
    }

    function test_explicitZeroRoyaltyOverridesDefault() public {
        vm.prank(creator);
        uint256 id = collection.mint(collector, URI, HASH, bytes32(0), collector, 0);
        (address receiver, uint256 amount) = collection.royaltyInfo(id, 1 ether);
        assertEq(receiver, collector, "receiver");
        assertEq(amount, 0, "zero royalty");
    }

    function test_duplicateContentHashReverts() public {
        vm.startPrank(creator);
        collection.mint(collector, URI, HASH, bytes32(0), split, 100);
        vm.expectRevert(
            abi.encodeWithSelector(StudioCollection.ContentAlreadyMinted.selector, HASH)
        );
        collection.mint(creator, "ipfs://other", HASH, bytes32(0), split, 100);
        vm.stopPrank();
    }

    function test_sameMediaMayLiveInTwoCollections() public {
        vm.prank(stranger);
        StudioCollection other = StudioCollection(
            factory.createCollection(bytes32(0), "Other", "OTH", "", address(0), 0)
        );
        vm.prank(creator);
        collection.mint(collector, URI, HASH, bytes32(0), split, 100);
        vm.prank(stranger);
        uint256 id = other.mint(collector, URI, HASH, bytes32(0), split, 100);
        assertEq(other.tokenIdOf(HASH), id, "minted in the other collection too");
    }

    function test_nonOwnerCannotMint() public {
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(StudioCollection.NotOwner.selector, stranger));
        collection.mint(stranger, URI, HASH, bytes32(0), split, 100);
    }

    function test_mintRefusals() public {
        vm.startPrank(creator);
        vm.expectRevert(abi.encodeWithSelector(StudioCollection.RoyaltyTooHigh.selector, 10_001));
        collection.mint(collector, URI, HASH, bytes32(0), split, 10_001);
        vm.expectRevert(StudioCollection.ZeroAddress.selector);
        collection.mint(collector, URI, HASH, bytes32(0), address(0), 1);
        vm.expectRevert(StudioCollection.ZeroContentHash.selector);
        collection.mint(collector, URI, bytes32(0), bytes32(0), split, 1);
        vm.expectRevert(
            abi.encodeWithSelector(IERC721Errors.ERC721InvalidReceiver.selector, address(0))
        );
        collection.mint(address(0), URI, HASH, bytes32(0), split, 1);
        address sink = address(new NotAReceiver());
        vm.expectRevert(abi.encodeWithSelector(IERC721Errors.ERC721InvalidReceiver.selector, sink));
        collection.mint(sink, URI, HASH, bytes32(0), split, 1);
        vm.expectRevert(abi.encodeWithSelector(StudioCollection.URITooLong.selector, 65_536));
        collection.mint(collector, string(new bytes(65_536)), HASH, bytes32(0), split, 1);
        vm.stopPrank();
        assertEq(collection.totalSupply(), 0, "nothing minted");
    }

    function test_royaltyStaysBelowTheWholePrice() public {
        vm.startPrank(creator);
        vm.expectRevert(abi.encodeWithSelector(StudioCollection.RoyaltyTooHigh.selector, 10_000));
        collection.mint(collector, URI, HASH, bytes32(0), split, 10_000);
        vm.expectRevert(abi.encodeWithSelector(StudioCollection.RoyaltyTooHigh.selector, 10_000));
        collection.setDefaultRoyalty(split, 10_000);
        uint256 id = collection.mint(collector, URI, HASH, bytes32(0), split, 9_999);
        vm.stopPrank();
        (, uint256 amount) = collection.royaltyInfo(id, 1_000_000);
        assertEq(amount, 999_900, "99.99%");
    }

    function test_softBindingIdIsIndexed() public {
        bytes32 wm = bytes32(uint256(0xC0FFEE));
        vm.expectEmit(true, true, true, true, address(collection));
        emit ContentMinted(HASH, uint256(HASH), wm);
        vm.prank(creator);
        collection.mint(collector, URI, HASH, wm, split, 100);
    }

    function test_ownershipNeedsAcceptance() public {
        vm.prank(creator);
        vm.expectEmit(address(collection));
        emit OwnershipTransferStarted(creator, stranger);
        collection.transferOwnership(stranger);
        assertEq(collection.owner(), creator, "still the creator until accepted");
        assertEq(collection.pendingOwner(), stranger, "pending");

        vm.prank(collector);
        vm.expectRevert(
            abi.encodeWithSelector(StudioCollection.NotPendingOwner.selector, collector)
        );
        collection.acceptOwnership();

        vm.prank(creator);
        collection.transferOwnership(address(0)); // cancels the offer
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(StudioCollection.NotPendingOwner.selector, stranger));
        collection.acceptOwnership();

        vm.prank(creator);
        collection.transferOwnership(stranger);
        vm.prank(stranger);
        vm.expectEmit(address(collection));
        emit OwnershipTransferred(creator, stranger);
        collection.acceptOwnership();
        assertEq(collection.owner(), stranger, "accepted");
        assertEq(collection.pendingOwner(), address(0), "offer cleared");
    }

    function test_unknownTokenViewsRevert() public {
        vm.expectRevert(abi.encodeWithSelector(IERC721Errors.ERC721NonexistentToken.selector, 1));
        collection.tokenURI(1);
        vm.expectRevert(abi.encodeWithSelector(IERC721Errors.ERC721NonexistentToken.selector, 1));
        collection.contentHashOf(1);
    }

    function test_transfersKeepRecords() public {
        vm.prank(creator);
        uint256 id = collection.mint(collector, URI, HASH, bytes32(0), split, 250);
        vm.prank(collector);
        collection.transferFrom(collector, stranger, id);
        assertEq(collection.ownerOf(id), stranger, "new holder");
        assertEq(collection.tokenIdOf(HASH), id, "hash still maps");
        (address receiver,) = collection.royaltyInfo(id, 1);
        assertEq(receiver, split, "royalty unchanged");
    }

    // ------------------------------------------------------------ owner actions

    function test_ownerActions() public {
        vm.startPrank(creator);
        string memory long = string.concat(URI, URI, "/contract.json");
        collection.setContractURI(long);
        assertEq(collection.contractURI(), long, "longer contractURI");
        collection.setContractURI("ipfs://new");
        assertEq(collection.contractURI(), "ipfs://new", "shorter contractURI");
        collection.transferOwnership(stranger);
        vm.stopPrank();
        vm.prank(stranger);
        collection.acceptOwnership();
        assertEq(collection.owner(), stranger, "new owner");

        vm.startPrank(creator);
        vm.expectRevert(abi.encodeWithSelector(StudioCollection.NotOwner.selector, creator));
        collection.setContractURI("x");
        vm.expectRevert(abi.encodeWithSelector(StudioCollection.NotOwner.selector, creator));
        collection.setDefaultRoyalty(creator, 1);
        vm.expectRevert(abi.encodeWithSelector(StudioCollection.NotOwner.selector, creator));
        collection.transferOwnership(creator);
        vm.expectRevert(abi.encodeWithSelector(StudioCollection.NotOwner.selector, creator));
        collection.mint(creator, URI, HASH, bytes32(0), split, 1);
        vm.stopPrank();

        vm.startPrank(stranger);
        vm.expectRevert(abi.encodeWithSelector(StudioCollection.RoyaltyTooHigh.selector, 20_000));
        collection.setDefaultRoyalty(split, 20_000);
        collection.setDefaultRoyalty(address(0), 0);
        vm.stopPrank();
        (address receiver, uint256 bps) = collection.defaultRoyalty();
        assertEq(receiver, address(0), "cleared receiver");
        assertEq(bps, 0, "cleared bps");
    }

    function test_supportsInterfaces() public view {
        assertTrue(collection.supportsInterface(type(IERC721).interfaceId), "721");
        assertTrue(collection.supportsInterface(type(IERC721Metadata).interfaceId), "metadata");
        assertTrue(collection.supportsInterface(type(IERC2981).interfaceId), "2981");
        assertTrue(!collection.supportsInterface(0xdeadbeef), "random");
    }

    // ------------------------------------------------------------ fuzz

    function testFuzz_uriRoundTrips(bytes memory raw) public {
        vm.assume(raw.length <= 2_000);
        vm.prank(creator);
        uint256 id = collection.mint(collector, string(raw), HASH, bytes32(0), address(0), 0);
        assertEq(collection.tokenURI(id), string(raw), "uri bytes");
    }

    function testFuzz_contractURIRoundTrips(bytes memory first, bytes memory second) public {
        vm.assume(first.length <= 1_000 && second.length <= 1_000);
        vm.startPrank(creator);
        collection.setContractURI(string(first));
        assertEq(collection.contractURI(), string(first), "first");
        collection.setContractURI(string(second));
        assertEq(collection.contractURI(), string(second), "second");
        vm.stopPrank();
    }

    function testFuzz_royaltyMatchesFormula(uint256 price, uint16 bps, address receiver) public {
        vm.assume(receiver != address(0));
        bps = uint16(bound(bps, 0, 9_999));
        price = bound(price, 0, type(uint256).max / 10_000);
        vm.prank(creator);
        uint256 id = collection.mint(collector, URI, HASH, bytes32(0), receiver, bps);
        (address got, uint256 amount) = collection.royaltyInfo(id, price);
        assertEq(got, receiver, "receiver");
        assertEq(amount, price * bps / 10_000, "amount");
    }

    function testFuzz_royaltyNeverOverflows(uint256 price) public {
        vm.prank(creator);
        uint256 id = collection.mint(collector, URI, HASH, bytes32(0), split, 9_999);
        (, uint256 amount) = collection.royaltyInfo(id, price);
        assertEq(amount, Math.mulDiv(price, 9_999, 10_000), "99.99% of any price");
    }

    function testFuzz_distinctHashesDistinctTokens(bytes32 a, bytes32 b) public {
        vm.assume(a != b && a != 0 && b != 0);
        vm.startPrank(creator);
        uint256 ia = collection.mint(collector, URI, a, bytes32(0), address(0), 0);
        uint256 ib = collection.mint(collector, URI, b, bytes32(0), address(0), 0);
        vm.stopPrank();
        assertEq(collection.tokenIdOf(a), ia, "a");
        assertEq(collection.tokenIdOf(b), ib, "b");
        assertEq(collection.contentHashOf(ib), b, "b hash");
    }
}
