"""The bibliography as CSL-JSON (`avn-kb export csl`): an array of items, the input format of the
Citation Style Language that Zotero, Mendeley, pandoc and citeproc processors read. Each entry of
references.yaml is already a CSL item with avn-kb's own fields beside it; the export keeps the
CSL fields exactly as written, in CSL's spelling, and leaves out the rest (docs/interop.md says
which and why). Nothing is added: a field the bibliography lacks stays absent."""

from __future__ import annotations

import json
from typing import Any

from avn_kb.model.knowledge import KnowledgeBase, Reference

# The CSL-JSON fields an entry of references.yaml may carry (schema/references.schema.json), in
# the order they are written. `note` is not among them: there it is the editors' remark on the
# evidence, and CSL processors read "Key: value" lines of a note as extra fields.
CSL_FIELDS = ("id", "type", "title", "author", "container-title", "publisher", "issued", "volume", "issue",
              "page", "DOI", "PMID", "PMCID", "URL")


def item(ref: Reference) -> dict[str, Any]:
    """One reference as a CSL-JSON item: its CSL fields, unchanged."""
    return {name: ref.csl[name] for name in CSL_FIELDS if name in ref.csl}


def items(kb: KnowledgeBase) -> list[dict[str, Any]]:
    """Every reference of the bibliography, in the order references.yaml lists them."""
    return [item(ref) for ref in kb.references]


def render(kb: KnowledgeBase) -> str:
    """The CSL-JSON document, indented, ending in a newline."""
    return json.dumps(items(kb), indent=2, ensure_ascii=False) + "\n"
