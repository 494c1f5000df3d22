"""What every page must pass in the browser, whatever the flow: no sideways scroll, no serious or
critical axe-core violation, and a screenshot in test-artifacts/ for a person to look at.

axe-core comes from the npm registry (tests/e2e/package.json, `npm ci` in tests/e2e); a missing
copy fails the test instead of skipping the check.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pytest
from playwright.sync_api import Page

AXE_PATH = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING_IMPACTS = {"serious", "critical"}


@cache
def axe_source() -> str:
    if not AXE_PATH.exists():
        pytest.fail(
            f"axe-core is missing ({AXE_PATH}): run `npm ci` in tests/e2e (CI does it in .ci/run)",
            pytrace=False,
        )
    return AXE_PATH.read_text(encoding="utf-8")


def spills_out_of_main(page: Page) -> list[str]:
    """Elements sticking out of the page's column (a table wider than its card on a laptop does
    not make the window scroll, but it still breaks the layout), unless a scroll box holds them."""
    return page.evaluate(
        """() => {
          const main = document.querySelector('main');
          if (!main) return [];
          const limit = main.getBoundingClientRect().right + 1;
          const clipped = (el) => {
            for (let up = el.parentElement; up && up !== main; up = up.parentElement) {
              if (['auto', 'scroll', 'hidden', 'clip'].includes(getComputedStyle(up).overflowX)) {
                return true;
              }
            }
            return false;
          };
          const culprits = [];
          for (const el of main.querySelectorAll('*')) {
            const box = el.getBoundingClientRect();
            if (box.width > 0 && box.right > limit && !clipped(el)) {
              let name = el.tagName.toLowerCase();
              if (el.classList.length) name += '.' + [...el.classList].join('.');
              culprits.push(`${name} (right ${Math.round(box.right)} > ${Math.round(limit)})`);
            }
          }
          return culprits.slice(0, 8);
        }"""
    )


def horizontal_overflow(page: Page) -> dict | None:
    """None when the page fits the viewport's width, else the widths and the widest culprits."""
    return page.evaluate(
        """() => {
          const doc = document.documentElement;
          if (doc.scrollWidth <= window.innerWidth) return null;
          const culprits = [];
          for (const el of document.body.querySelectorAll('*')) {
            const box = el.getBoundingClientRect();
            if (box.right > window.innerWidth + 1 && box.width > 0) {
              let name = el.tagName.toLowerCase();
              if (el.id) name += '#' + el.id;
              if (el.classList.length) name += '.' + [...el.classList].join('.');
              culprits.push(name + ' (right ' + Math.round(box.right) + ')');
            }
          }
          return {scrollWidth: doc.scrollWidth, innerWidth: window.innerWidth,
                  culprits: culprits.slice(0, 8)};
        }"""
    )


def axe_violations(page: Page, exclude: tuple[str, ...] = ()) -> list[dict]:
    """axe-core's serious and critical violations on the page as it is now (leaving out what
    `exclude` selects: a processor's own card fields, which are its to make accessible)."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        # Evaluated through the DevTools protocol: the page's CSP (no inline scripts) still holds
        # for the page's own code.
        page.evaluate(f"() => {{ {axe_source()}\n }}")
        page.evaluate("() => { if (typeof axe === 'object') window.axe = axe; }")
    results = page.evaluate(
        """async (exclude) => {
          const context = exclude.length ? {exclude: exclude.map((s) => [s])} : document;
          const results = await window.axe.run(context, {resultTypes: ['violations']});
          return results.violations.map((v) => ({
            id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.slice(0, 5).map((n) => ({target: n.target.join(' '),
                                                    summary: n.failureSummary})),
          }));
        }""",
        list(exclude),
    )
    return [v for v in results if v["impact"] in BLOCKING_IMPACTS]


def describe_violations(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"  [{violation['impact']}] {violation['id']}: {violation['help']}")
        for node in violation["nodes"]:
            summary = re.sub(r"\s+", " ", node["summary"] or "")[:300]
            lines.append(f"      at {node['target']}: {summary}")
    return "\n".join(lines)


@dataclass
class PageAudit:
    """Checks page after page and reports every problem at the end, so that one run shows them
    all (a walk through twenty pages should not stop at the first)."""

    page: Page
    screenshot_dir: Path
    prefix: str
    problems: list[str] = field(default_factory=list)
    visited: list[str] = field(default_factory=list)

    def check(self, name: str, exclude: tuple[str, ...] = ()) -> None:
        self.page.wait_for_load_state("load")
        self.visited.append(name)
        where = f"{self.prefix}/{name} ({self.page.url})"
        overflow = horizontal_overflow(self.page)
        if overflow:
            self.problems.append(
                f"{where} scrolls sideways: scrollWidth {overflow['scrollWidth']} > innerWidth "
                f"{overflow['innerWidth']}; widest: {', '.join(overflow['culprits'])}"
            )
        spilling = spills_out_of_main(self.page)
        if spilling:
            self.problems.append(f"{where} spills out of the page's column: {', '.join(spilling)}")
        violations = axe_violations(self.page, exclude)
        if violations:
            self.problems.append(
                f"{where}: axe-core found serious/critical violations:\n"
                + describe_violations(violations)
            )
        self.page.screenshot(path=self.screenshot_dir / f"{self.prefix}-{name}.png", full_page=True)

    def assert_clean(self) -> None:
        assert not self.problems, f"{len(self.problems)} page problem(s):\n" + "\n".join(
            self.problems
        )
