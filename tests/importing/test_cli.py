from __future__ import annotations

import json
from pathlib import Path

from studio.cli import main

from .media import image


def test_import_json_summary(capsys, tmp_path: Path, paths) -> None:
    good = image(tmp_path / "ok.png")
    (tmp_path / "bad.jpg").write_text("nope")
    assert main(["import", str(good), str(tmp_path / "bad.jpg"), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [a["original_name"] for a in out["imported"]] == ["ok.png"]
    assert out["rejected"][0]["path"].endswith("bad.jpg") and "named .jpg" in \
        out["rejected"][0]["reason"]
    assert main(["import", str(good), "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["already"]) == 1


def test_import_text_and_exit_code(capsys, tmp_path: Path, paths) -> None:
    (tmp_path / "empty.png").write_bytes(b"")
    assert main(["import", str(tmp_path / "empty.png"), str(tmp_path / "nowhere")]) == 1
    out = capsys.readouterr().out
    assert "Imported 0, already in the library 0, rejected 2." in out
    assert "empty (0 bytes)" in out and "does not exist" in out
