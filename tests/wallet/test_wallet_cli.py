"""``studio wallet …``: subprocesses for the real command line, in-process where a prompt
must be answered from what the command printed."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from studio import cli
from studio.commands import wallet_cmd

from .helpers import ANVIL, ANVIL_MNEMONIC


def studio(*args: str, stdin: str = "", env: dict[str, str] | None = None):
    return subprocess.run([sys.executable, "-m", "studio", "wallet", *args], input=stdin,
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, **(env or {})})


def test_import_list_use_export_remove(real_keyring, paths, tmp_path) -> None:
    r = studio("import", "--mnemonic-stdin", "--count", "2", "--label", "anvil",
               stdin=ANVIL_MNEMONIC + "\n")
    assert r.returncode == 0, r.stderr
    assert ANVIL[1][0] in r.stdout
    r = studio("import", "--key-stdin", stdin=ANVIL[2][1] + "\n")
    assert r.returncode == 0, r.stderr

    r = studio("use", ANVIL[2][0].lower())
    assert r.returncode == 0 and "active account" in r.stdout
    listed = json.loads(studio("list", "--json").stdout)
    assert [a["address"] for a in listed] == [a for a, _ in ANVIL]
    assert [a["active"] for a in listed] == [False, False, True]
    assert listed[0]["derivation_path"] == "m/44'/60'/0'/0/0"

    out = tmp_path / "ks.json"
    r = studio("export", ANVIL[2][0], "--out", str(out), "--password-stdin",
               stdin="a good password\n")
    assert r.returncode == 0, r.stderr
    r = studio("remove", ANVIL[2][0], stdin="n\n")  # answered no: kept
    assert r.returncode == 1 and "export" in r.stderr.lower()
    r = studio("remove", ANVIL[2][0], "--yes")
    assert r.returncode == 0, r.stderr
    r = studio("import", "--keystore", str(out), "--password-stdin", stdin="wrong\n")
    assert r.returncode == 1 and "Wrong keystore password" in r.stderr
    r = studio("import", "--keystore", str(out), "--password-stdin", stdin="a good password\n")
    assert r.returncode == 0 and ANVIL[2][0] in r.stdout
    r = studio("list")
    assert "keystore" in r.stdout and r.stdout.count("0x") == 3


def test_bad_input_is_a_clear_error(real_keyring, paths) -> None:
    r = studio("import", "--mnemonic-stdin",
               stdin="test test tset test test test test test test test test junk\n")
    assert r.returncode == 1 and 'Word #3 "tset"' in r.stderr
    r = studio("import", "--key-stdin", stdin="0x1234\n")
    assert r.returncode == 1 and "64 hexadecimal digits" in r.stderr
    r = studio("import", "--key-stdin", "--index", "2", stdin=ANVIL[0][1])
    assert r.returncode == 1 and "--mnemonic-stdin only" in r.stderr
    r = studio("use", "0xnobody")
    assert r.returncode == 1 and "No account" in r.stderr
    assert "Traceback" not in r.stderr
    assert not paths.settings_file.exists()


def test_secrets_are_not_accepted_on_argv() -> None:
    r = studio("import", "--key", ANVIL[0][1])
    assert r.returncode == 2  # argparse: no such option


def test_no_backend_writes_nothing(paths, tmp_path) -> None:
    env = {"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
    from studio.core.settings import SettingsStore, WalletAccount

    store = SettingsStore(paths.settings_file)
    s = store.load().settings
    s.wallet.accounts.append(WalletAccount(ANVIL[0][0], "kept", "key", ""))
    store.save(s)
    before = paths.settings_file.read_bytes()
    for args, stdin in [(("create",), ""), (("create", "--mnemonic"), ""),
                        (("import", "--key-stdin"), ANVIL[1][1]),
                        (("import", "--mnemonic-stdin"), ANVIL_MNEMONIC),
                        (("export", ANVIL[0][0], "--out", str(tmp_path / "o.json"),
                          "--password-stdin"), "a good password\n"),
                        (("remove", ANVIL[0][0], "--yes"), "")]:
        r = studio(*args, stdin=stdin, env=env)
        assert r.returncode == 1, (args, r.stdout, r.stderr)
        assert "No usable OS keyring" in r.stderr and "nothing was stored" in r.stderr, args
        assert "Re-type" not in r.stdout + r.stderr  # no words shown for nothing
    assert paths.settings_file.read_bytes() == before
    assert not (tmp_path / "o.json").exists()


def _prompt_answers(monkeypatch, capsys, wrong: bool = False) -> None:
    def answer(prompt: str) -> str:
        words = re.findall(r"\d+\. (\w+)", capsys.readouterr().out) or answer.words
        answer.words = words
        n = int(re.search(r"#(\d+)", prompt).group(1))
        return "nope" if wrong else words[n - 1]

    answer.words = []
    monkeypatch.setattr(wallet_cmd, "_read_line", answer)


def test_create_with_mnemonic_confirms_words(real_keyring, paths, monkeypatch, capsys) -> None:
    _prompt_answers(monkeypatch, capsys, wrong=True)
    assert cli.main(["wallet", "create", "--mnemonic"]) == 1
    assert "does not match; nothing was stored" in capsys.readouterr().err
    assert not paths.settings_file.exists()

    _prompt_answers(monkeypatch, capsys)
    assert cli.main(["wallet", "create", "--mnemonic", "--label", "mine"]) == 0
    assert "from the recovery phrase" in capsys.readouterr().out
    listed = json.loads(Path(paths.settings_file).read_text())["wallet"]["accounts"]
    assert [(a["label"], a["source"]) for a in listed] == [("mine", "created")]


@pytest.mark.parametrize("args", [("create",), ("create", "--label", "x")])
def test_create_key(real_keyring, paths, capsys, args) -> None:
    assert cli.main(["wallet", *args]) == 0
    assert "created 0x" in capsys.readouterr().out


def test_export_demands_the_gui_password_strength(real_keyring, paths, tmp_path) -> None:
    """The CLI keystore export holds the same rule as the GUI's export dialog (at least
    MIN_KEYSTORE_PASSWORD characters): a short password writes nothing."""
    from studio.core.wallet.validation import MIN_KEYSTORE_PASSWORD

    r = studio("import", "--key-stdin", stdin=ANVIL[2][1] + "\n")
    assert r.returncode == 0, r.stderr
    out = tmp_path / "short.json"
    short = "x" * (MIN_KEYSTORE_PASSWORD - 1)
    r = studio("export", ANVIL[2][0], "--out", str(out), "--password-stdin", stdin=short + "\n")
    assert r.returncode == 1 and f"at least {MIN_KEYSTORE_PASSWORD} characters" in r.stderr
    assert not out.exists()
    r = studio("export", ANVIL[2][0], "--out", str(out), "--password-stdin",
               stdin="x" * MIN_KEYSTORE_PASSWORD + "\n")
    assert r.returncode == 0, r.stderr
    assert out.is_file()
