"""Finding a launch by a name a person typed."""

from __future__ import annotations

import difflib


def similar_names(wanted: str, names: list[str], limit: int = 3) -> list[str]:
    """Names close to `wanted`, best first, for a "did you mean" list."""
    by_key = {n.casefold(): n for n in names}
    key = wanted.strip().casefold()
    close = difflib.get_close_matches(key, list(by_key), n=limit, cutoff=0.5)
    contained = [k for k in by_key if key and (key in k or k in key) and k not in close]
    return [by_key[k] for k in (close + contained)[:limit]]
