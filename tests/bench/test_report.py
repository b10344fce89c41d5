"""The report's reading of a run: what it claims about the targets must follow from the figures."""

from __future__ import annotations

from typing import Any

from bench import report


def _run(openline: int, naive: int, relay: int) -> dict[str, Any]:
    def peer(capacity: int) -> dict[str, Any]:
        return {"dialogs": {"capacity_per_sec": capacity}}

    return {
        "sizes": {"steps": [100, 250, 500, 1000, 2000]},
        "peers": {"openline-sqlite": peer(openline), "naive-stack": peer(naive), "raw-relay": peer(relay)},
    }


def _capacity_vs_naive(run: dict[str, Any]) -> dict[str, Any]:
    run["ratios"] = report.ratios(run)
    return next(r for r in report.targets(run)["openline-sqlite"] if r["target"].endswith("x naive stack"))


def test_a_naive_stack_that_fails_every_step_gives_a_bound_not_a_ratio():
    # Its capacity is below the lowest step (100): 2,000 is more than 20 times it, whatever it is.
    assert _capacity_vs_naive(_run(2000, 0, 5000)) == {
        "target": "dialog capacity >= 10 x naive stack",
        "value": "> 20",
        "met": True,
    }
    # A bound under 10 proves nothing either way.
    assert _capacity_vs_naive(_run(500, 0, 5000))["met"] is None


def test_a_naive_stack_with_a_capacity_gives_the_plain_ratio():
    assert _capacity_vs_naive(_run(2000, 500, 5000)) == {
        "target": "dialog capacity >= 10 x naive stack",
        "value": 4.0,
        "met": False,
    }
