"""The error responses an operation declares (RFC 9457 problems, api.problems): 401 (token),
403 (scope or role) and 429 (rate limit) on every one, plus those it names."""

from __future__ import annotations

from ..schemas import ProblemOut

ALWAYS = (401, 403, 429)


def errors(*codes: int) -> dict[int, type[ProblemOut]]:
    return dict.fromkeys(sorted({*ALWAYS, *codes}), ProblemOut)
