"""The graph pictures of the docs, drawn at build time by docs/hooks/pictures.py: each one a page
refers to is made, and each is a well-formed SVG with the numbers of its example."""

import importlib.util
import pathlib
import re
import xml.etree.ElementTree as ET

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
REFERENCE = re.compile(r"\]\((pictures/[\w.-]+\.svg)\)")


def load_hook():
    spec = importlib.util.spec_from_file_location("docs_pictures_hook", ROOT / "docs" / "hooks" / "pictures.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_picture_a_page_shows_is_made():
    hook = load_hook()
    referenced = {m for page in (ROOT / "docs").glob("*.md") for m in REFERENCE.findall(page.read_text("utf-8"))}
    assert referenced and referenced <= set(hook.PICTURES)
    assert "hooks:\n  - docs/hooks/pictures.py" in (ROOT / "mkdocs.yml").read_text("utf-8")


def test_pictures_are_svg_with_their_numbers():
    hook = load_hook()
    for uri, make in hook.PICTURES.items():
        root = ET.fromstring(make())
        text = " ".join(root.itertext())
        if uri == "pictures/layers.svg":  # the architecture picture: layers and their packages
            assert all(word in text for word in ("BASE", "CORE", "OPS", "NAMESPACES", "LIBRARY", "core.walks", "nn"))
            continue
        assert "grad" in text and "value" in text, uri
    xyz = " ".join(ET.fromstring(hook.xyz_step()).itertext())
    assert "value 4" in xyz and "grad 10" in xyz and "g = mul (*)" in xyz


def test_a_strict_site_build_with_the_hook_has_the_pictures(tmp_path):
    pytest.importorskip("mkdocs")
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "index.md").write_text("# Step\n\n![the step](pictures/xyz-step.svg)\n", encoding="utf-8")
    (tmp_path / "mkdocs.yml").write_text(
        f"site_name: t\ndocs_dir: docs\nsite_dir: site\nstrict: true\nhooks:\n  - {ROOT / 'docs' / 'hooks' / 'pictures.py'}\n",
        encoding="utf-8",
    )
    build(load_config(str(tmp_path / "mkdocs.yml")))
    svg = (tmp_path / "site" / "pictures" / "xyz-step.svg").read_text("utf-8")
    assert "value 4" in " ".join(ET.fromstring(svg).itertext())
