"""The Postgres checkpointer against a real, throw-away Postgres server (scripted chat model).

A server is started from the machine's PostgreSQL binaries (``initdb``/``pg_ctl``) in a
temporary folder, on a Unix socket only. Skipped when no PostgreSQL is installed or the
``postgres`` extra is missing; ``.ci/run`` installs both.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from assistant.backends import ScriptedChatModel
from assistant.service import Assistant, make_checkpointer
from tools.core.store import Store

pytest.importorskip("langgraph.checkpoint.postgres")
pytest.importorskip("psycopg")


def _pg_bin(name: str) -> str | None:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found[-1] if found else shutil.which(name)


@pytest.fixture(scope="module")
def postgres_url():
    initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
    if not initdb or not pg_ctl:
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql)")
    root = Path(tempfile.mkdtemp(prefix="diaodu-pg-"))
    data, sock = root / "data", root / "sock"
    sock.mkdir()
    prefix: list[str] = []
    if os.geteuid() == 0:  # Postgres refuses to run as root: run it as the postgres user
        if not shutil.which("runuser") or subprocess.run(["id", "postgres"], capture_output=True).returncode:
            pytest.skip("running as root without a postgres user to start the server")
        shutil.chown(root, "postgres")
        shutil.chown(sock, "postgres")
        root.chmod(0o755)
        prefix = ["runuser", "-u", "postgres", "--"]
    subprocess.run([*prefix, initdb, "-D", str(data), "-U", "postgres", "--auth=trust"], check=True, capture_output=True)
    port = "54329"
    subprocess.run([*prefix, pg_ctl, "-D", str(data), "-w", "-l", str(root / "log"), "-o",
                    f"-k {sock} -p {port} -c listen_addresses=''", "start"], check=True, capture_output=True, timeout=60)
    try:
        yield f"postgresql://postgres@/postgres?host={sock}&port={port}"
    finally:
        subprocess.run([*prefix, pg_ctl, "-D", str(data), "-m", "immediate", "stop"], capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


def test_thread_resumes_after_restart_in_postgres(workspace, postgres_url):
    a = Assistant(ScriptedChatModel(["Hello."]), checkpointer=make_checkpointer(postgres_url))
    tid = a.ask("hi")["thread_id"]
    # another process (a second server behind a load balancer) opens the same database
    b = Assistant(ScriptedChatModel(["Still here."]), checkpointer=make_checkpointer(postgres_url))
    b.ask("are you there?", tid)
    assert [m["content"] for m in b.history(tid)] == ["hi", "Hello.", "are you there?", "Still here."]
    assert tid in b.threads()


def test_approval_waits_in_postgres_and_resumes_elsewhere(workspace, postgres_url):
    pid = Store().save_plan("demo-city", {"routes": [[1, 2]]})
    a = Assistant(ScriptedChatModel([]), checkpointer=make_checkpointer(postgres_url))
    r = a.ask("send it to the drivers")
    assert r["pending_approval"]["plan_id"] == pid and not Store().is_committed(pid)
    later = Assistant(ScriptedChatModel([]), checkpointer=make_checkpointer(postgres_url))
    done = later.resume(r["thread_id"], approve=True)
    assert Store().is_committed(pid) and done["pending_approval"] is None


def test_an_unreachable_postgres_is_a_clear_error(tmp_path):
    from tools.core.errors import DiaoduError

    with pytest.raises(DiaoduError, match="cannot connect to the Postgres checkpointer"):
        make_checkpointer(f"postgresql://postgres@/postgres?host={tmp_path}&port=1&connect_timeout=2")
