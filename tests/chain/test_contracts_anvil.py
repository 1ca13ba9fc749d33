"""The compiled artifacts on a real anvil: factories, collection, split, mint, royalties.

Sync Web3 on purpose (the app uses AsyncWeb3; here plain calls read better).
"""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from eth_abi import encode
from eth_account import Account
from web3 import Web3
from web3.contract import Contract
from web3.exceptions import ContractCustomError
from web3.logs import DISCARD

from studio.core.chain.anvil_binary import AnvilProcess
from studio.core.chain.artifacts import load_artifact

URI = "ipfs://bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"
TOTAL = 1_000_000
ZERO = "0x" + "00" * 20
NO_BINDING = b"\x00" * 32


def _payer_code(*, revert_on_failure: bool) -> str:
    """Creation code of a payer that forwards msg.value to the address in its calldata with
    CALL(gas=0): the callee gets exactly the 2,300-gas stipend, as Solidity's `transfer`
    (reverting on failure) and `send` (returning the success flag) give it."""
    call = "600060006000600034600035" + "6000f1"  # CALL(0, to, value, 0, 0, 0, 0)
    # transfer: ISZERO PUSH1 fail JUMPI STOP; fail: REVERT(0, 0). send: RETURN the flag.
    runtime = call + ("15601457005b600080fd" if revert_on_failure else "60005260206000f3")
    size = len(runtime) // 2
    return "0x60" + f"{size:02x}" + "8060095f395ff3" + runtime  # copy runtime, return it


@pytest.fixture(scope="module")
def w3(anvil: AnvilProcess) -> Web3:
    web3 = Web3(Web3.HTTPProvider(anvil.url))
    assert web3.is_connected()
    return web3


def _send(w3: Web3, fn: Any, sender: str, value: int = 0) -> Any:
    tx_hash = fn.transact({"from": sender, "value": value})
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash)
    assert receipt["status"] == 1
    return receipt


def _deploy(w3: Web3, name: str, sender: str) -> Contract:
    artifact = load_artifact(name)
    factory = w3.eth.contract(abi=artifact["abi"], bytecode=artifact["bytecode"])
    receipt = _send(w3, factory.constructor(), sender)
    return w3.eth.contract(address=receipt["contractAddress"], abi=artifact["abi"])


def _at(w3: Web3, name: str, address: str) -> Contract:
    return w3.eth.contract(address=address, abi=load_artifact(name)["abi"])


def _error_data(signature: str, types: list[str], values: list[Any]) -> str:
    selector = Web3.keccak(text=signature)[:4]
    return "0x" + (selector + encode(types, values)).hex()


@pytest.fixture(scope="module")
def deployed(w3: Web3) -> dict[str, Contract]:
    deployer = w3.eth.accounts[0]
    return {
        "collections": _deploy(w3, "CollectionFactory", deployer),
        "splits": _deploy(w3, "SplitFactory", deployer),
    }


def _new_collection(w3: Web3, factory: Contract, creator: str, salt: bytes) -> Contract:
    predicted = factory.functions.predictCollection(creator, salt).call()
    create = factory.functions.createCollection(salt, "Studio", "STU", URI, ZERO, 0)
    receipt = _send(w3, create, creator)
    (event,) = factory.events.CollectionCreated().process_receipt(receipt, errors=DISCARD)
    assert event["args"]["owner"] == creator
    assert event["args"]["collection"] == predicted
    return _at(w3, "StudioCollection", predicted)


def test_collection_split_mint_sale_release(w3: Web3, deployed: dict[str, Contract]) -> None:
    creator, collector, buyer, keeper = w3.eth.accounts[1:5]
    collection = _new_collection(w3, deployed["collections"], creator, b"\x01" * 32)
    assert collection.functions.owner().call() == creator
    assert collection.functions.contractURI().call() == URI

    # Fresh, empty accounts as recipients so their balances are exactly what the split paid.
    # The contract wants recipients in ascending numeric order.
    people = sorted((Account.create().address for _ in range(3)), key=lambda a: int(a, 16))
    allocations = [500_000, 300_001, 199_999]
    splits = deployed["splits"]
    predicted = splits.functions.predict(people, allocations).call()
    receipt = _send(w3, splits.functions.create(people, allocations), creator)
    (event,) = splits.events.SplitCreated().process_receipt(receipt, errors=DISCARD)
    assert event["args"]["split"] == predicted
    # create() of an existing split answers its address and deploys nothing.
    assert splits.functions.create(people, allocations).call() == predicted
    split = _at(w3, "RoyaltySplitter", predicted)
    accounts, allocs = split.functions.recipients().call()
    assert (list(accounts), list(allocs)) == (people, allocations)

    media = b"a picture, byte for byte"
    content_hash = hashlib.sha256(media).digest()
    receipt = _send(
        w3, collection.functions.mint(collector, URI, content_hash, NO_BINDING, predicted, 750),
        creator)
    (minted,) = collection.events.ContentMinted().process_receipt(receipt, errors=DISCARD)
    token_id = minted["args"]["tokenId"]
    assert minted["args"]["contentHash"] == content_hash
    assert minted["args"]["softBindingId"] == NO_BINDING
    # The token id is the media's sha256: a file leads to its token.
    assert token_id == int.from_bytes(content_hash, "big")
    assert collection.functions.tokenIdOf(content_hash).call() == token_id
    assert collection.functions.ownerOf(token_id).call() == collector
    assert collection.functions.tokenURI(token_id).call() == URI
    assert collection.functions.contentHashOf(token_id).call() == content_hash

    price = Web3.to_wei(1.2345678, "ether") + 7  # an awkward price on purpose
    receiver, royalty = collection.functions.royaltyInfo(token_id, price).call()
    assert receiver == predicted
    assert royalty == price * 750 // 10_000

    # The marketplace pays the royalty to the splitter with a plain transfer.
    tx = w3.eth.send_transaction({"from": buyer, "to": predicted, "value": royalty})
    assert w3.eth.wait_for_transaction_receipt(tx)["status"] == 1
    assert split.functions.totalReceived().call() == royalty

    for person, allocation in zip(people, allocations, strict=True):
        due = royalty * allocation // TOTAL
        assert split.functions.releasable(person).call() == due
        _send(w3, split.functions.release(person), keeper)  # anyone may pay anyone out
        assert w3.eth.get_balance(person) == due
        assert split.functions.released(person).call() == due
    paid = sum(royalty * a // TOTAL for a in allocations)
    assert split.functions.totalReleased().call() == paid
    assert w3.eth.get_balance(predicted) == royalty - paid < len(people)


def test_split_takes_transfer_and_send_within_the_stipend(
        w3: Web3, deployed: dict[str, Contract]) -> None:
    """A marketplace paying royalties with `transfer`/`send` (2,300 gas, the split's code
    cold): the split proxy accepts, logs ReceiveETH, and the money is releasable."""
    payer_account = w3.eth.accounts[7]
    people = sorted((Account.create().address for _ in range(2)), key=lambda a: int(a, 16))
    splits = deployed["splits"]
    address = splits.functions.predict(people, [600_000, 400_000]).call()
    _send(w3, splits.functions.create(people, [600_000, 400_000]), payer_account)
    split = _at(w3, "RoyaltySplitter", address)
    paid = 0
    for revert_on_failure in (True, False):
        tx = w3.eth.send_transaction({"from": payer_account,
                                      "data": _payer_code(revert_on_failure=revert_on_failure)})
        payer = w3.eth.wait_for_transaction_receipt(tx)["contractAddress"]
        call = {"from": payer_account, "to": payer, "value": 10**15,
                "data": "0x" + "00" * 12 + address[2:].lower()}
        if not revert_on_failure:  # send: the flag it returns is true
            assert int.from_bytes(w3.eth.call(call), "big") == 1
        receipt = w3.eth.wait_for_transaction_receipt(w3.eth.send_transaction(call))
        assert receipt["status"] == 1
        (event,) = split.events.ReceiveETH().process_receipt(receipt, errors=DISCARD)
        assert event["address"] == address and event["args"]["amount"] == 10**15
        paid += 10**15
    assert w3.eth.get_balance(address) == paid
    assert split.functions.totalReceived().call() == paid
    assert split.functions.releasable(people[0]).call() == paid * 6 // 10


def test_refusals_surface_as_custom_errors(w3: Web3, deployed: dict[str, Contract]) -> None:
    creator, stranger = w3.eth.accounts[5:7]
    collection = _new_collection(w3, deployed["collections"], creator, b"\x02" * 32)
    content_hash = hashlib.sha256(b"only once").digest()
    _send(w3, collection.functions.mint(creator, URI, content_hash, NO_BINDING, creator, 500),
          creator)

    with pytest.raises(ContractCustomError) as duplicate:
        collection.functions.mint(creator, "ipfs://again", content_hash, NO_BINDING, creator,
                                  500).transact({"from": creator})
    assert duplicate.value.data == _error_data(
        "ContentAlreadyMinted(bytes32)", ["bytes32"], [content_hash]
    )

    other_hash = hashlib.sha256(b"not yours").digest()
    with pytest.raises(ContractCustomError) as not_owner:
        collection.functions.mint(stranger, URI, other_hash, NO_BINDING, stranger, 500).transact(
            {"from": stranger}
        )
    assert not_owner.value.data == _error_data("NotOwner(address)", ["address"], [stranger])

    with pytest.raises(ContractCustomError) as too_high:
        collection.functions.mint(creator, URI, other_hash, NO_BINDING, creator, 10_000).call(
            {"from": creator})
    # Below 100 % on-chain (Manifold's rule): a royalty may not take the whole sale.
    assert too_high.value.data == _error_data("RoyaltyTooHigh(uint256)", ["uint256"], [10_000])

    # Unsorted recipients are refused by the split factory.
    a, b = sorted((Account.create().address for _ in range(2)), key=lambda x: int(x, 16))
    with pytest.raises(ContractCustomError) as unsorted:
        deployed["splits"].functions.create([b, a], [500_000, 500_000]).call()
    assert unsorted.value.data == _error_data("UnsortedRecipients(uint256)", ["uint256"], [1])


def test_implementation_is_locked(w3: Web3, deployed: dict[str, Contract]) -> None:
    impl = _at(w3, "StudioCollection", deployed["collections"].functions.implementation().call())
    with pytest.raises(ContractCustomError) as locked:
        impl.functions.initialize(w3.eth.accounts[0], "x", "y", "", ZERO, 0).call()
    assert locked.value.data == _error_data("AlreadyInitialized()", [], [])
