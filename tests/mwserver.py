"""A throwaway real MediaWiki (Debian's package, SQLite) on 127.0.0.1 for integration tests.

Edits go through ``maintenance/edit.php`` (real revisions: ids, parents, timestamps, SHA-1s);
``php -S`` serves api.php. No pytest here: the sample builder and benchmarks can use it too.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import httpx

MW = Path("/usr/share/mediawiki")
INSTALL_HINT = "apt-get install -y --no-install-recommends mediawiki php-sqlite3 php-cli"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class MediaWikiServer:
    def __init__(self, workdir: Path, port: int | None = None, lang: str = "zh"):
        self.workdir = Path(workdir)
        self.port = port or free_port()
        self.lang = lang
        self.process: subprocess.Popen | None = None
        self.env = {**os.environ, "MW_CONFIG_FILE": str(self.workdir / "LocalSettings.php")}

    @staticmethod
    def is_available() -> bool:
        return (MW / "maintenance" / "install.php").exists() and shutil.which("php") is not None

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api.php"

    def php(self, script: str, *args: str, stdin: str | None = None) -> str:
        proc = subprocess.run(["php", str(MW / "maintenance" / script), *args], input=stdin,
                              capture_output=True, text=True, env=self.env, timeout=300)
        if proc.returncode != 0:
            raise RuntimeError(f"{script} failed: {proc.stdout[-1500:]} {proc.stderr[-1500:]}")
        return proc.stdout

    def install(self) -> None:
        (self.workdir / "db").mkdir(parents=True, exist_ok=True)
        self.php("install.php", "--dbtype=sqlite", f"--dbpath={self.workdir / 'db'}",
                 "--dbname=zhwiki", f"--server=http://127.0.0.1:{self.port}", "--scriptpath=",
                 f"--lang={self.lang}", "--pass=test-Admin-2026", f"--confpath={self.workdir}",
                 "TestWiki", "Admin")
        with (self.workdir / "LocalSettings.php").open("a", encoding="utf-8") as fh:
            # Tests edit and read at once: no caching between them, no rate limits for the API.
            fh.write("\n$wgMainCacheType = CACHE_NONE;\n$wgRateLimits = [];\n$wgShowExceptionDetails = true;\n")

    def start(self) -> None:
        log = (self.workdir / "php-server.log").open("w")
        self.process = subprocess.Popen(
            ["php", "-S", f"127.0.0.1:{self.port}", "-t", str(MW)], env=self.env,
            stdout=log, stderr=subprocess.STDOUT, cwd=str(MW))
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.api_url, params={"action": "query", "meta": "siteinfo",
                                                   "format": "json"}, timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.2)
        raise RuntimeError(f"MediaWiki did not answer on {self.api_url}")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
            self.process = None

    def __enter__(self) -> MediaWikiServer:
        self.install()
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def edit(self, title: str, text: str, summary: str = "edit", user: str = "Admin") -> int:
        """Save a revision with maintenance/edit.php; return its revision id."""
        self.php("edit.php", "--user", user, "--summary", summary, title, stdin=text)
        data = httpx.get(self.api_url, params={"action": "query", "prop": "revisions", "titles": title,
                                               "rvprop": "ids", "format": "json",
                                               "formatversion": "2"}, timeout=10).json()
        return int(data["query"]["pages"][0]["revisions"][0]["revid"])

    def dump_full(self, out: Path) -> Path:
        out.write_text(self.php("dumpBackup.php", "--full", "--quiet"), encoding="utf-8")
        return out
