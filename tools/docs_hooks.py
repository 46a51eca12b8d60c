"""MkDocs hooks (mkdocs.yml `hooks:`): the generated reference pages.

`on_files` adds each page of `docs_reference.PAGES` to the site as a virtual
file, built from the code and schemas of this checkout at build time; nothing
is written into docs/ and nothing is fetched from the network.
"""

from __future__ import annotations

from typing import Any

import docs_reference  # MkDocs puts this file's folder on sys.path while loading it
from mkdocs.structure.files import File, Files


def on_files(files: Files, config: Any) -> Files:
    for src_uri, render in docs_reference.PAGES.items():
        files.append(File.generated(config, src_uri, content=render()))
    return files
