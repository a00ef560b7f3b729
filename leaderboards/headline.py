"""A suite's headline table in the top-level README, written by the build, never by hand.

The README marks the place with `<!-- headline:SUITE -->` ... `<!-- /headline:SUITE -->`; the
build replaces what is between the markers with the per-task means of the score metric (bold:
the per-task best, as in the suite's own README) and the normalised-score IQM, linking to the
suite's full report. A README without the markers is left alone.
"""

from __future__ import annotations

import re
from pathlib import Path

from leaderboards.aggregate import Leaderboard
from leaderboards.report import fmt, task_columns


def headline_lines(board: Leaderboard, report_link: str) -> list[str]:
    algos = board.algorithms
    scores = sorted({t.score for t in board.tasks})
    lines = [
        f"Final evaluation {'/'.join(scores)}, mean over seeds (best per task in bold), and the "
        f"IQM of normalised scores across tasks with its 95% interval; full tables, intervals, "
        f"curves and references: [{report_link}]({report_link}).",
        "",
        "| task | env steps | seeds | " + " | ".join(algos) + " |",
        "|---|---|---|" + "---|" * len(algos),
    ]
    for task in board.tasks:
        cells = task.cells.get(task.score, {})
        row = task_columns(task, task.score)
        for algo in algos:
            cell = cells.get(algo)
            text = fmt(cell.mean) if cell else "–"
            row.append(f"**{text}**" if cell and algo in task.best.get(task.score, []) else text)
        lines.append("| " + " | ".join(row) + " |")
    if board.aggregate:
        row = ["normalised IQM [95% CI]", "", ""]
        for algo in algos:
            v = board.aggregate.get(algo)
            row.append(f"{fmt(v['iqm'].value)} [{fmt(v['iqm'].low)}, {fmt(v['iqm'].high)}]" if v else "–")
        lines.append("| " + " | ".join(row) + " |")
    if board.missing:
        lines += ["", f"Incomplete: {len(board.missing)} planned run(s) have no result yet."]
    return lines


def update_readme(readme: Path, board: Leaderboard, report_link: str) -> bool:
    """Replace the suite's marked block in `readme`; False (and no change) without the markers."""
    if not readme.exists():
        return False
    name = re.escape(board.suite.name)
    pattern = re.compile(rf"(<!-- headline:{name} -->\n).*?(<!-- /headline:{name} -->)", re.DOTALL)
    body = "\n".join(headline_lines(board, report_link)) + "\n"
    text, replaced = pattern.subn(lambda m: m[1] + body + m[2], readme.read_text(), count=1)
    if replaced:
        readme.write_text(text)
    return bool(replaced)
