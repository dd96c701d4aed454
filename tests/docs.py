"""Run the Python examples of the documentation, so a reader never copies one that fails."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
_BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)


def python_example(doc: str, heading: str) -> dict[str, Any]:
    """Execute the first ```python block under `heading` of a Markdown file; its namespace."""
    text = (REPO / doc).read_text(encoding="utf-8")
    start = text.index(heading)
    found = _BLOCK.search(text, start)
    assert found is not None, f"no python block under {heading!r} in {doc}"
    namespace: dict[str, Any] = {"__name__": f"doc_example_{Path(doc).stem}"}
    exec(compile(found.group(1), f"{doc} ({heading})", "exec"), namespace)
    return namespace
