"""The documentation's pointers hold (issue 24, item 14): every test file it cites exists,
and examples/README.md lists every example directory."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PAGES = sorted(
    [REPO / "README.md", *(REPO / "docs").rglob("*.md"), *(REPO / "examples").rglob("README.md")]
)
TEST_PATH = re.compile(r"\btests/[\w/]+\.py\b")


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(REPO)))
def test_every_cited_test_file_exists(page: Path) -> None:
    cited = sorted(set(TEST_PATH.findall(page.read_text())))
    missing = [path for path in cited if not (REPO / path).is_file()]
    assert missing == [], f"{page.relative_to(REPO)} cites {missing}"


def test_examples_readme_lists_every_example() -> None:
    text = (REPO / "examples" / "README.md").read_text()
    examples = sorted(
        p.name for p in (REPO / "examples").iterdir() if (p / "Pulumi.yaml").is_file()
    )
    assert examples, "no example found"
    assert [name for name in examples if f"]({name}/)" not in text] == []


def test_the_native_page_typescript_program_is_the_tested_example() -> None:
    """docs/native-provider.md's TypeScript program is examples/native-typescript/index.ts
    (which tests/e2e/test_native_sdks.py runs) without its leading comment."""
    page = (REPO / "docs" / "native-provider.md").read_text()
    marker = "<!-- docs-snippet: native-typescript -->\n```typescript\n"
    assert marker in page, "the page lost its TypeScript program"
    shown = page.split(marker, 1)[1].split("```", 1)[0]
    example = (REPO / "examples" / "native-typescript" / "index.ts").read_text()
    code = "\n".join(line for line in example.splitlines() if not line.startswith("//"))
    assert shown.strip() == code.strip()
