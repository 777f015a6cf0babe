"""The exit codes of every avn-kb command, in one place (the README's table lists the same).

| Code | Name        | Meaning                                                                  |
| ---- | ----------- | ------------------------------------------------------------------------ |
| 0    | OK          | done: no findings at error level, every golden case passed, answer given |
| 1    | FINDINGS    | findings at error level (warnings too with --strict), or failing golden  |
|      |             | cases: the knowledge needs work, the run itself went fine                |
| 2    | USAGE       | the run could not be done: a bad option or date, a case that cannot be   |
|      |             | used (unknown fact, a fact given twice, no facts), input that cannot be  |
|      |             | read, output that cannot or may not be written (a link, a device...)    |
| 3    | BUG         | an internal error: one line, --debug shows the trace; please report it  |
| 130  | INTERRUPTED | stopped by Ctrl-C (128 + SIGINT, as shells report it)                   |

Kept apart so that a CI step can rely on them: `|| [ $? -eq 1 ]` tolerates findings and nothing
else, because a failed write is 2, never 1.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """What a command's exit status means; an int, so `sys.exit(ExitCode.USAGE)` exits 2."""

    OK = 0
    FINDINGS = 1
    USAGE = 2
    BUG = 3
    INTERRUPTED = 130
