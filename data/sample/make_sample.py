"""Rebuild the bundled sample: real edits of the seed article on a throwaway local MediaWiki.

Usage (needs Debian's mediawiki, php-cli and php-sqlite3 packages):

    .venv/bin/python data/sample/make_sample.py [--out data/sample/northern_mali_conflict.xml]

It installs MediaWiki with SQLite into a temporary directory (no web server is needed: the
maintenance scripts write to the database directly), saves seven revisions of 马利北部冲突 with
``maintenance/edit.php`` under three user accounts, and exports the page's full history with
``maintenance/dumpBackup.php --full``. The export is what a Wikimedia dump holds (schema 0.11).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SEED = HERE.parent.parent / "tests" / "data" / "seed_northern_mali_conflict.zh.wikitext"
MW = Path("/usr/share/mediawiki")
TITLE = "马利北部冲突"
USERS = ("MaliWatcher", "Sahel-editor", "Vandal-2026")

# Lines the older revision does not have yet (added back by the second edit).
LATE_LINES = ("<br/>{{flagicon|Sierra Leone}} 650人", "<br/>{{flagicon|Benin}} 300人")
LAST_CATEGORY = "\n[[Category:2015年馬利|Category:2015年馬利]]"


def revisions(seed: str) -> list[tuple[str, str, str]]:
    """(user, summary, text) of each edit, oldest first. The last text is the seed itself."""
    def drop_line(text: str, start: str) -> str:
        i = text.index(start)
        return text[:i] + text[text.index("\n", i) + 1:]

    current = seed.replace(LAST_CATEGORY, "")  # the category arrives in the last edit
    older = current
    for line in LATE_LINES:
        older = drop_line(older, line)
    older = older.replace("'''总计：''' 23,564人以上", "'''总计：''' 22,614人以上")
    vandal_figure = current.replace("{{flagicon|Chad}} 2,000人", "{{flagicon|Chad}} 20,000人")
    start = current.index("{{Infobox military conflict")
    end = current.index("\n}}\n", current.index("|notes")) + 4
    blanked = current[:start] + current[end:]
    return [
        ("MaliWatcher", "创建条目：马利北部冲突（自中文维基百科导入）", older),
        ("Sahel-editor", "参战方兵力：补充塞拉利昂、贝宁，更新总计", current),
        ("Vandal-2026", "", vandal_figure),
        ("MaliWatcher", "回退Vandal-2026的编辑：乍得兵力无来源改动", current),
        ("Vandal-2026", "删除信息框", blanked),
        ("Sahel-editor", "回退：恢复信息框", current),
        ("MaliWatcher", "分类：+2015年馬利", seed),
    ]


def php(script: str, *args: str, env: dict, stdin: str | None = None) -> str:
    proc = subprocess.run(["php", str(MW / "maintenance" / script), *args], input=stdin,
                          capture_output=True, text=True, env=env, check=False)
    if proc.returncode != 0:
        sys.exit(f"{script} failed ({proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    return proc.stdout


def build(out: Path) -> None:
    if not (MW / "maintenance" / "install.php").exists():
        sys.exit("Debian's mediawiki package is missing: "
                 "apt-get install -y --no-install-recommends mediawiki php-sqlite3 php-cli")
    seed = SEED.read_text(encoding="utf-8")
    work = Path(tempfile.mkdtemp(prefix="infobox-sample-"))
    try:
        (work / "db").mkdir()
        env = {**os.environ, "MW_CONFIG_FILE": str(work / "LocalSettings.php")}
        php("install.php", "--dbtype=sqlite", f"--dbpath={work / 'db'}", "--dbname=zhwiki",
            "--server=http://127.0.0.1:8080", "--scriptpath=", "--lang=zh",
            "--pass=sample-Admin-2026", f"--confpath={work}", "Wikipedia", "Admin", env=env)
        for user in USERS:
            php("createAndPromote.php", user, "sample-Pass-2026", env=env)
        for i, (user, summary, text) in enumerate(revisions(seed)):
            if i:
                time.sleep(1.1)  # MediaWiki timestamps have one-second resolution: keep them increasing
            php("edit.php", "--user", user, "--summary", summary or "", TITLE, env=env, stdin=text)
        pagelist = work / "pages.txt"
        pagelist.write_text(TITLE + "\n", encoding="utf-8")
        xml = php("dumpBackup.php", "--full", "--quiet", f"--pagelist={pagelist}", env=env)
        out.write_text(xml, encoding="utf-8")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"wrote {out} ({out.stat().st_size:,} bytes, {xml.count('<revision>')} revisions)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE / "northern_mali_conflict.xml")
    build(parser.parse_args().out)
