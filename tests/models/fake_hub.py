"""A FAKE Hugging Face hub: the subset of the hub's HTTP API that huggingface_hub uses to list a
repo (``/api/models/...``) and download its files (``/{repo}/resolve/{rev}/{path}`` with HEAD,
ETag/X-Linked-Etag, X-Repo-Commit, ranges), pointed at through ``HF_ENDPOINT``. The real hub
cannot be reached from CI. It can be slow, stop mid-file, be gated, or serve corrupted bytes.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlparse


@dataclass
class FakeRepo:
    repo_id: str
    files: dict[str, bytes]
    licence: str = ""
    gated: bool = False
    token: str = ""  # the token that passes the gate
    corrupt: set[str] = field(default_factory=set)  # served bytes differ from the published oid
    claimed_sizes: dict[str, int] = field(default_factory=dict)  # sizes the API reports
    lfs_min: int = 1024  # files at least this big are LFS (published sha256)

    @property
    def commit(self) -> str:
        h = hashlib.sha1(self.repo_id.encode())
        for name in sorted(self.files):
            h.update(name.encode() + hashlib.sha1(self.files[name]).digest())
        return h.hexdigest()

    def is_lfs(self, name: str) -> bool:
        return len(self.files[name]) >= self.lfs_min or name.endswith(".safetensors")

    def sibling(self, name: str) -> dict:
        data = self.files[name]
        size = self.claimed_sizes.get(name, len(data))
        out = {"rfilename": name, "size": size,
               "blobId": hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()}
        if self.is_lfs(name):
            out["lfs"] = {"sha256": hashlib.sha256(data).hexdigest(), "size": size,
                          "pointerSize": 134}
        return out

    def served(self, name: str) -> bytes:
        data = self.files[name]
        if name in self.corrupt:
            return data[:-8] + b"CORRUPT!"
        return data


class FakeHub:
    def __init__(self) -> None:
        self.repos: dict[str, FakeRepo] = {}
        self.plain: dict[str, bytes] = {}  # /dl/<name>: a direct download link (not the hub)
        self.requests: list[tuple[str, str, str]] = []  # (method, path, Range header)
        self.bytes_per_second: float | None = None
        self.stall_after: int | None = None  # stop sending after this many bytes of a file
        self.stalled = threading.Event()  # set when a response reached stall_after
        self.release = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def add(self, repo: FakeRepo) -> FakeRepo:
        self.repos[repo.repo_id] = repo
        return repo

    def add_folder(self, repo_id: str, folder: Path, **kw) -> FakeRepo:
        files = {p.relative_to(folder).as_posix(): p.read_bytes()
                 for p in sorted(folder.rglob("*")) if p.is_file()}
        return self.add(FakeRepo(repo_id, files, **kw))

    def start(self) -> FakeHub:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.release.set()
        self._server.shutdown()
        self._server.server_close()

    def _handler(self):
        hub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # quiet
                pass

            def _error(self, status: int, code: str = "", message: str = "") -> None:
                body = json.dumps({"error": message}).encode()
                self.send_response(status)
                if code:
                    self.send_header("X-Error-Code", code)
                if message:
                    self.send_header("X-Error-Message", message)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def _find(self, parts: list[str]) -> tuple[FakeRepo | None, list[str]]:
                for n in (2, 1):
                    repo = hub.repos.get("/".join(parts[:n]))
                    if repo is not None:
                        return repo, parts[n:]
                return None, parts

            def _gate(self, repo: FakeRepo) -> bool:
                if not repo.gated:
                    return True
                auth = self.headers.get("Authorization", "")
                if repo.token and auth == f"Bearer {repo.token}":
                    return True
                self._error(401, "GatedRepo", f"Access to model {repo.repo_id} is restricted. "
                            "You must have access to it and be authenticated to access it.")
                return False

            def do_HEAD(self) -> None:
                self._serve()

            def do_GET(self) -> None:
                self._serve()

            def _serve(self) -> None:
                path = unquote(urlparse(self.path).path)
                hub.requests.append((self.command, path, self.headers.get("Range", "")))
                parts = [p for p in path.split("/") if p]
                if parts[:1] == ["dl"] and len(parts) == 2:
                    if parts[1] not in hub.plain:
                        return self._error(404)
                    return self._send(hub.plain[parts[1]], {
                        "Content-Disposition": f'attachment; filename="{parts[1]}"'})
                if parts[:2] == ["api", "models"]:
                    repo, rest = self._find(parts[2:])
                    if repo is None:
                        return self._error(404, "RepoNotFound", "Repository not found")
                    if not self._gate(repo):
                        return None
                    if rest[:1] == ["tree"]:
                        return self._tree(repo, "/".join(rest[2:]))
                    return self._info(repo)
                repo, rest = self._find(parts)
                if repo is None or len(rest) < 3 or rest[0] != "resolve":
                    return self._error(404, "RepoNotFound", "Repository not found")
                if not self._gate(repo):
                    return None
                name = "/".join(rest[2:])
                if name not in repo.files:
                    return self._error(404, "EntryNotFound", f"{name} does not exist")
                return self._file(repo, name)

            def _info(self, repo: FakeRepo) -> None:
                card = {"license": repo.licence} if repo.licence else {}
                body = json.dumps({
                    "id": repo.repo_id, "modelId": repo.repo_id, "sha": repo.commit,
                    "private": False, "gated": "manual" if repo.gated else False,
                    "tags": [f"license:{repo.licence}"] if repo.licence else [],
                    "cardData": card, "siblings": [repo.sibling(n) for n in sorted(repo.files)],
                }).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _tree(self, repo: FakeRepo, prefix: str) -> None:
                """``list_repo_tree`` (what ``snapshot_download`` lists), recursive."""
                entries, folders = [], set()
                for name in sorted(repo.files):
                    if prefix and not name.startswith(prefix.rstrip("/") + "/"):
                        continue
                    parts = name.split("/")
                    folders.update("/".join(parts[:i]) for i in range(1, len(parts)))
                    meta = repo.sibling(name)
                    entry = {"type": "file", "path": name, "size": meta["size"],
                             "oid": meta["blobId"]}
                    if "lfs" in meta:
                        entry["lfs"] = {"oid": meta["lfs"]["sha256"], "size": meta["size"],
                                        "pointerSize": 134}
                    entries.append(entry)
                entries += [{"type": "directory", "path": f, "oid": "0" * 40, "size": 0}
                            for f in sorted(folders)]
                body = json.dumps(entries).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _file(self, repo: FakeRepo, name: str) -> None:
                data = repo.served(name)
                meta = repo.sibling(name)
                etag = meta["lfs"]["sha256"] if "lfs" in meta else meta["blobId"]
                headers = {"X-Repo-Commit": repo.commit, "ETag": f'"{etag}"'}
                if "lfs" in meta:
                    headers.update({"X-Linked-Etag": f'"{etag}"',
                                    "X-Linked-Size": str(len(data))})
                self._send(data, headers)

            def _send(self, data: bytes, headers: dict[str, str]) -> None:
                start = 0
                rng = self.headers.get("Range", "")
                if rng.startswith("bytes="):
                    start = int(rng[6:].split("-")[0] or 0)
                self.send_response(206 if start else 200)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(data) - start))
                if start:
                    self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                self.send_header("Accept-Ranges", "bytes")
                self.end_headers()
                if self.command == "HEAD":
                    return
                pos, step = start, 16 * 1024
                while pos < len(data):
                    if hub.stall_after is not None and pos >= hub.stall_after:
                        hub.stalled.set()
                        hub.release.wait(60)  # hold the connection: the client is killed
                        return
                    chunk = data[pos:pos + step]
                    try:
                        self.wfile.write(chunk)
                        self.wfile.flush()
                    except (BrokenPipeError, ConnectionResetError):
                        return
                    pos += len(chunk)
                    if hub.bytes_per_second:
                        time.sleep(len(chunk) / hub.bytes_per_second)

        return Handler
