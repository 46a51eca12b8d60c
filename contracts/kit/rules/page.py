"""The sentences of the published Credentials API page the kit quotes, by page section.

Each is copied verbatim from the page (a test compares them with the page
text whenever a copy of the page is at hand); the kit's findings quote them
as the source of the rule they enforce. Example lines of the page's JSON
answers count as page text too: the page documents the shape of each answer
by example.
"""

from __future__ import annotations

INTRO = "Credentials"
LIST = "List credentials"
CREATE = "Create credential"
GET = "Get credential metadata"
UPDATE = "Update credential"
DELETE = "Soft-delete credential"
RESTORE = "Restore deleted credential"
PURGE = "Permanently delete credential"

SENTENCES: dict[str, tuple[str, ...]] = {
    INTRO: (
        "Responses return **metadata only**—secret values are never echoed back in list or "
        "get operations.",
        "Authenticate every request with your API key:",
        "Authorization: Bearer YOUR_API_KEY_HERE",
        "If your workspace uses URL versioning, insert `/v1` before `/api` in the path",
    ),
    LIST: (
        "Returns credential records your key can access.",
        "Fields such as passwords, tokens, and private keys are omitted; you see names, types, "
        "status, and non-sensitive configuration hints.",
        '"page": { "limit": 50, "cursor": null }',
    ),
    CREATE: (
        "Human-readable label unique within the workspace",
        "One of `aws`, `azure`, `gcp`, `database`, `api_key`, `oauth`, `password`",
        "Type-specific settings; secret fields are stored encrypted server-side",
        '"status": "active",',
    ),
    GET: ("Path parameter `id` is the credential identifier",),
    UPDATE: (
        "Send the fields you want to change.",
        "Omitted fields are left unchanged unless the API documentation for your deployment "
        "states otherwise.",
    ),
    DELETE: ("Marks the credential as deleted.", '"status": "deleted",'),
    RESTORE: ('"status": "active",', '"deleted_at": null'),
    PURGE: ("This action cannot be undone.", '"purged": true'),
}


def quoted(section: str, sentence: str) -> str:
    """``sentence`` of ``section``, checked to be one the kit ships."""
    if sentence not in SENTENCES.get(section, ()):
        raise KeyError(f"not a shipped sentence of the page section {section!r}: {sentence!r}")
    return sentence
