"""`campusbot console` as a newcomer runs it: scripted stdin, replies only on stdout."""

from __future__ import annotations

import os
import re
import subprocess
import sys


def console(tmp_path, script: str, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAMPUSBOT_")}
    return subprocess.run([sys.executable, "-m", "bot", "console", *args], input=script,
                          capture_output=True, text=True, cwd=tmp_path, env=env, timeout=60)


def test_scripted_session_survives_a_restart_in_both_languages(tmp_path):
    first = console(tmp_path, "/award @bob 25 first video\n/leaderboard\n",
                    "--user", "admin", "--role", "organiser")
    assert first.returncode == 0, first.stderr
    replies = first.stdout.split("\n\n")
    assert replies[0].startswith("Awarded 25 points to bob.")
    assert replies[1].splitlines()[:2] == ["Leaderboard — all time", "1. bob — 25 points"]
    assert "[1] This month" in replies[1]
    assert "Traceback" not in first.stderr

    second = console(tmp_path, "/points\n/language zh_Hans\n/points\n/history\n/link\n",
                     "--user", "bob")
    out = second.stdout
    assert out.startswith("[to bob] You received 25 points!")
    assert "Balance: 25 points" in out and "Rank: #1 (by points earned" in out
    assert "余额：25 积分" in out or "余额: 25 积分" in out
    assert "first video" in out
    code = re.search(r"/link ([A-Z0-9]{8})\b", out).group(1)  # in the /link answer
    third = console(tmp_path, f"/link {code}\n/press 1\n/points\n", "--user", "bob_phone",
                    "--locale", "zh-CN")
    # The /points answer (balance, then rank), not the link preview's or the link's "25 积分".
    assert "余额：25 积分\n排名：第 1 名" in third.stdout
    assert (tmp_path / "data" / "campusbot.db").exists()


def test_no_banner_or_prompt_when_not_a_terminal(tmp_path):
    result = console(tmp_path, "/points\n", "--user", "x")
    assert result.returncode == 0, result.stderr
    # Exactly the reply: no banner before it, no "> " prompt around it.
    assert result.stdout == ("Balance: 0 points\n"
                             "No rank yet: earn points to join the leaderboard.\n")
