"""What the people commands share: the exit code and printing of per-account outcomes, and the check that a
service is wired. Exit codes (DESIGN §6): 0 success, 1 failure, 2 usage error, 3 partial success."""

from __future__ import annotations

from collections.abc import Sequence

from app.cli.render import print_json, term
from app.services.people_common import Outcome

EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_PARTIAL = 0, 1, 2, 3


def _exit_for(outcomes: Sequence[Outcome]) -> int:
    if not outcomes or all(o.ok for o in outcomes):
        return EXIT_OK
    return EXIT_FAILURE if not any(o.ok for o in outcomes) else EXIT_PARTIAL


def _print_outcomes(
    outcomes: Sequence[Outcome], as_json: bool, extra: dict[str, object] | None = None
) -> None:
    if as_json:
        print_json(
            {**(extra or {}), "ok": all(o.ok for o in outcomes), "results": [o.to_json() for o in outcomes]}
        )
        return
    for o in outcomes:
        print(f"{'OK  ' if o.ok else 'FAIL'} {term(o.message)}")
