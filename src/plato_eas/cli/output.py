"""How ``eas`` prints a result: the report's table (or CSV) and the one-line ``msg`` for
people, or the whole result as JSON with ``--json``."""

from __future__ import annotations

import argparse
import json
import sys


def _extra_lines(args: argparse.Namespace, result: dict) -> list[str]:
    lines = []
    if args.command == "run":
        lines += [f"blocked: task {t['task_id']} ({t['task_type']}"
                  f"{', ' + t['task_name'] if t.get('task_name') else ''}) waits on failed "
                  f"task(s) {', '.join(str(i) for i in t['blocked_by'])}"
                  for t in result.get("blocked", [])[:20]]
        lines += result.get("worker_errors", [])
    if result.get("next_offset") is not None:  # a page of a paged report
        lines.append(f"more rows: --offset {result['next_offset']}")
    if "pages" in result and result.get("total"):
        more = "; --page N for the others" if result["pages"] > 1 else ""
        lines.append(f"page {result['page']} of {result['pages']} ({result['total']} "
                     f"message(s), newest first{more})")
    return lines


def show(args: argparse.Namespace, result: dict) -> None:
    out = sys.stdout
    # `eas task run` is for scripts and developers: its result is JSON
    if args.json or (args.command == "task" and args.task_command == "run"):
        shown = {k: v for k, v in result.items() if k not in ("table", "csv")}
        out.write(json.dumps(shown, indent=2, default=str) + "\n")
        return
    if "csv" in result:
        out.write(result["csv"])
        return
    if "table" in result:
        out.write(result["table"] + "\n")
    for line in _extra_lines(args, result):
        out.write(line + "\n")
    if result.get("msg"):
        out.write(result["msg"] + "\n")
