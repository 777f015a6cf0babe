"""zen-engine answering a JSON Lines batch end to end, as `avn-kb query --batch` does, for
benchmarks/batch.py: `python -m benchmarks.zen_batch GRAPH CASES OUT`.

One process: start, import zen, read the decision graph (GRAPH: the JDM JSON that
benchmarks/zen_table.py compiles from the knowledge base, written once by the benchmark, as a
knowledge base's files are written once), read each line of CASES (`{"id": ..., "facts": {...}}`),
evaluate it with the engine's loader (its fast path, benchmarks/engines.py) and write one JSON line
per case to OUT: the line number, the id and the matched rows (zen's answer: the ids whose row
matched, without outcomes, reasons, overrides or anything else avn-kb's answer carries)."""

from __future__ import annotations

import json
import sys


def main(argv: list[str]) -> int:
    import zen

    graph_path, cases_path, out_path = argv
    with open(graph_path, encoding="utf-8") as handle:
        content = zen.ZenDecisionContent(handle.read())
    engine = zen.ZenEngine({"loader": lambda key: content})
    with open(cases_path, encoding="utf-8") as cases, open(out_path, "w", encoding="utf-8") as out:
        for number, text in enumerate(cases, start=1):
            line = json.loads(text)
            result = engine.evaluate("kb", line["facts"])
            out.write(json.dumps({"line": number, "id": line.get("id"), "result": result["result"]},
                                 ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
