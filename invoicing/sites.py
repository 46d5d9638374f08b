"""Several issuers per tenant: a site (an Emporix `siteCode`, often a legal entity of its own) may have
each settings concern of its own (seller with its language and locale, logo, number sequences,
e-invoice, invoice settings), and falls back to the tenant's per concern where it has none.

Pure rules, no I/O: the store reads the tenant's and the site's settings in one query and hands both
layers here."""

import re
from collections.abc import Mapping
from typing import Any

# A site code names settings documents ({tenant}:{site}:{kind}) and sequence marks, so it never holds
# the ':' those keys are joined with; letters, digits, '_', '-' and '.', as Emporix site codes are.
SITE_CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
SITE_CODE_MAX_LENGTH = 64
# The sequence scope of the tenant's own sequences (a site with a sequence of its own has its code).
TENANT_SCOPE = ""

Values = Mapping[str, Mapping[str, Any]]


def is_site_code(value: str) -> bool:
    """Whether `value` can name a site with settings of its own (pattern and length)."""
    return 1 <= len(value) <= SITE_CODE_MAX_LENGTH and re.fullmatch(SITE_CODE_PATTERN, value) is not None


def site_over_tenant(tenant: Values, site: Values) -> dict[str, Mapping[str, Any]]:
    """The settings in force for a site, by kind: the site's own value of a concern where it has one,
    else the tenant's. A concern is replaced whole, never merged field by field: a site's seller is a
    seller of its own (its language and locale with it), not the tenant's with a few fields changed."""
    return {**tenant, **site}


def sequence_scope(site: str | None, site_kinds: Mapping[str, Any], sequence_kind: str) -> str:
    """Whose number sequence a document of this site takes: the site's own when the site has settings of
    that sequence (`sequence_kind`), else the tenant's (TENANT_SCOPE), which the tenant's orders without a
    site and its sites without a sequence of their own share."""
    return site if site is not None and sequence_kind in site_kinds else TENANT_SCOPE


def settings_key(tenant: str, site: str | None, kind: str) -> str:
    """The `_id` of a settings document: `{tenant}:{kind}` for the tenant's, `{tenant}:{site}:{kind}` for a
    site's (neither a tenant nor a site code holds ':', so the two never meet)."""
    return f"{tenant}:{kind}" if site is None else f"{tenant}:{site}:{kind}"
