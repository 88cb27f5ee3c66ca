"""The package as Pulumi's registry reads it: schema metadata and docs/registry.

The registry shows the schema's metadata (repository, publisher, logo, keywords, language
package names) and the two pages in docs/registry with their Hugo front matter; the SDKs
show the schema's descriptions. Both must name what users write: camelCase properties and
``polardb-account:*`` keys, in Markdown.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import yaml

from pulumi_polardb_reset.core import _props as p
from pulumi_polardb_reset.native import _config, _schema

REPO = Path(__file__).resolve().parents[2]
REGISTRY = REPO / "docs" / "registry"
SCHEMA = _schema.schema("0.2.0")
RESOURCE = SCHEMA["resources"][_schema.TOKEN]


def front_matter(page: Path) -> tuple[dict[str, Any], str]:
    """The YAML front matter of a registry page and the Markdown after it."""
    text = page.read_text()
    match = re.fullmatch(r"---\n(.*?)\n---\n(.*)", text, re.DOTALL)
    assert match, f"{page.name}: no front matter (--- ... ---) at the top"
    meta = yaml.safe_load(match.group(1))
    assert isinstance(meta, dict)
    return meta, match.group(2)


def descriptions(schema: dict[str, Any]) -> dict[str, str]:
    """Every description in the schema, by where it is."""
    found = {"package": schema["description"], "provider": schema["provider"]["description"]}
    for res_token, res in schema["resources"].items():
        found[res_token] = res["description"]
        for kind in ("inputProperties", "properties"):
            for name, prop in res[kind].items():
                found[f"{res_token}.{kind}.{name}"] = prop["description"]
    for name, prop in schema["config"]["variables"].items():
        found[f"config.{name}"] = prop["description"]
    for name, prop in schema["provider"]["inputProperties"].items():
        found[f"provider.{name}"] = prop["description"]
    return found


def test_schema_names_the_project_the_plugin_download_and_the_languages() -> None:
    assert SCHEMA["repository"] == SCHEMA["homepage"] == _schema.REPOSITORY
    assert SCHEMA["pluginDownloadURL"] == _schema.PLUGIN_DOWNLOAD_URL
    # Pulumi's GitHub source: github://<api host>/<owner>/<repository>, the repository named
    # (its default would be pulumi-polardb-account, which does not exist).
    owner_repo = _schema.REPOSITORY.removeprefix("https://github.com/")
    assert f"github://api.github.com/{owner_repo}" == _schema.PLUGIN_DOWNLOAD_URL
    assert SCHEMA["publisher"] and SCHEMA["displayName"]
    assert {"kind/native", "category/database"} <= set(SCHEMA["keywords"])
    assert all(k == k.lower() and " " not in k for k in SCHEMA["keywords"])
    language = SCHEMA["language"]
    assert language["python"]["packageName"] == _schema.PYTHON_PACKAGE
    assert language["nodejs"]["packageName"] == _schema.NODEJS_PACKAGE
    go = language["go"]
    # The Go SDK is its own module (go.mod in sdk/go of the repository) holding one package.
    assert go["modulePath"] == _schema.GO_MODULE == f"github.com/{owner_repo}/sdk/go"
    assert go["importBasePath"] == f"{_schema.GO_MODULE}/polardbaccount"
    assert SCHEMA["meta"]["supportPack"] is True


def test_logo_is_an_svg_in_the_repository_at_the_logo_url() -> None:
    assert SCHEMA["logoUrl"] == _schema.LOGO_URL
    raw = _schema.REPOSITORY.replace("https://github.com/", "https://raw.githubusercontent.com/")
    assert f"{raw}/main/{_schema.LOGO_PATH}" == _schema.LOGO_URL
    root = ET.parse(REPO / _schema.LOGO_PATH).getroot()  # noqa: S314 - our own file
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.get("viewBox")


def test_descriptions_are_markdown_with_the_names_users_write() -> None:
    snake = sorted({n for n in (*p.INPUTS, *p.OUTPUTS) if "_" in n}, key=len, reverse=True)
    for where, text in descriptions(SCHEMA).items():
        assert "``" not in text, f"{where}: reStructuredText literal in {text!r}"
        assert ":class:" not in text and ":data:" not in text, where
        for name in snake:
            assert not re.search(rf"\b{name}\b", text), f"{where}: Python name {name} in {text!r}"
        assert "alicloud:" not in text and "polardbReset:" not in text, f"{where}: {text!r}"
        assert not re.search(r"\bNone\b", text), f"{where}: Python's None in {text!r}"
    inputs = RESOURCE["inputProperties"]
    assert "`accountPassword`" in inputs["checkPassword"]["description"]
    assert "`polardb-account:region`" in inputs["region"]["description"]
    assert "null" in RESOURCE["properties"]["privilegesOk"]["description"]


def test_markdown_maps_literals_property_names_and_config_keys() -> None:
    assert _schema.markdown("when ``account_password`` is not set") == (
        "when `accountPassword` is not set"
    )
    assert _schema.markdown("``pulumi up`` (None: unknown)") == "`pulumi up` (null: unknown)"
    assert _schema.markdown("else ``alicloud:region``") == "else `polardb-account:region`"


@pytest.mark.parametrize("page", ["_index.md", "installation-configuration.md"])
def test_registry_pages_have_the_front_matter_the_registry_reads(page: str) -> None:
    meta, body = front_matter(REGISTRY / page)
    assert meta.get("layout") == "package"
    assert isinstance(meta.get("title"), str) and meta["title"]
    assert isinstance(meta.get("meta_desc"), str) and len(meta["meta_desc"]) >= 40
    assert body.strip()
    # Hugo shortcodes open and close in pairs.
    assert body.count("{{< chooser") == body.count("{{< /chooser >}}")
    assert body.count("{{% choosable") == body.count("{{% /choosable %}}")


def test_overview_documents_every_input_and_shows_the_go_import_path() -> None:
    _, body = front_matter(REGISTRY / "_index.md")
    for name in RESOURCE["inputProperties"]:
        assert f"| `{name}` |" in body, f"input {name} is not in docs/registry/_index.md"
    for name in RESOURCE["requiredInputs"]:
        (row,) = [line for line in body.splitlines() if line.startswith(f"| `{name}` |")]
        assert "required" in row
    for name, prop in RESOURCE["inputProperties"].items():
        if prop.get("secret"):
            (row,) = [line for line in body.splitlines() if line.startswith(f"| `{name}` |")]
            assert "secret" in row, f"{name} is secret: say so"
    assert f'"{_schema.GO_IMPORT_PATH}"' in body
    assert f'from "{_schema.NODEJS_PACKAGE}"' in body
    assert f"import {_schema.PYTHON_PACKAGE} as" in body
    assert f"type: {_schema.TOKEN}" in body


def test_installation_page_documents_every_config_key_and_the_packages() -> None:
    _, body = front_matter(REGISTRY / "installation-configuration.md")
    rows = {
        m.group(1): line
        for line in body.splitlines()
        if (m := re.match(rf"\| `{re.escape(_config.PACKAGE)}:(\w+)` \|", line))
    }
    assert set(rows) == {key.name for key in _config.KEYS}, "the table lists every config key"
    for key in _config.KEYS:
        assert key.type in rows[key.name]
        assert ("secret" in rows[key.name]) == key.secret, key.name
        if key.secret:
            assert f"--secret {_config.PACKAGE}:{key.name}" in body or (
                f"`{_config.PACKAGE}:{key.name}`" in body.split("Remember `--secret`")[-1]
            )
    for name in (_schema.NODEJS_PACKAGE, _schema.PYTHON_PACKAGE, _schema.GO_IMPORT_PATH):
        assert f"`{name}`" in body
    assert f"--server {_schema.PLUGIN_DOWNLOAD_URL}" in body
    assert "`sdk/go/v<version>`" in body


def code_blocks(body: str) -> dict[str, str]:
    """The fenced code blocks of a page by language (the last one of each)."""
    return {m.group(1): m.group(2) for m in re.finditer(r"```(\w+)\n(.*?)```", body, re.DOTALL)}


def test_overview_examples_set_only_inputs_and_read_only_outputs_of_the_schema() -> None:
    _, body = front_matter(REGISTRY / "_index.md")
    blocks = code_blocks(body)
    inputs, outputs = set(RESOURCE["inputProperties"]), set(RESOURCE["properties"])
    required = set(RESOURCE["requiredInputs"])

    program = yaml.safe_load(blocks["yaml"])
    (resource,) = program["resources"].values()
    assert resource["type"] == _schema.TOKEN
    assert required <= set(resource["properties"]) <= inputs
    for value in program["outputs"].values():
        assert re.fullmatch(r"\$\{admin\.(\w+)\}", value).group(1) in outputs  # type: ignore[union-attr]

    def args(code: str, pattern: str) -> set[str]:
        call = code[code.index("PrivilegedAccountReset") :]
        call = call[: call.index("})") if "})" in call else call.index(")\n")]
        return set(re.findall(pattern, call))

    typescript = args(blocks["typescript"], r"\n\s+(\w+):")
    assert required <= typescript <= inputs
    python = args(blocks["python"], r"\n\s+(\w+)=")
    assert {p.CAMEL.get(name, name) for name in python} == typescript
    go = args(blocks["go"], r"\n\s+(\w+):")
    assert {name[0].lower() + name[1:] for name in go} == typescript
    for code, read in (
        (blocks["typescript"], r"admin\.(\w+)"),
        (blocks["go"], r"admin\.(\w+)"),
        (blocks["python"], r"admin\.(\w+)"),
    ):
        for name in re.findall(read, code):
            camel = p.CAMEL.get(name, name[0].lower() + name[1:])
            assert camel in outputs, name
