"""Try the student edition in JupyterLab as a student would, in headless Chromium, and take screenshots.

It writes the student edition, starts JupyterLab on it (smoke profile), opens notebook 01, runs every cell, then
answers exercise 1 wrongly (the whole dataset instead of the training set), exercise 2 rightly, exercise 3 with the
classic uint8 overflow and asks for a hint, and shows the progress table. It fails unless each verdict appears as
expected in the page, and leaves screenshots in the output folder.

Needs Debian's chromium and Playwright (kept out of the pack's dependencies; a separate environment is fine):
    apt-get install -y chromium && python3 -m venv /tmp/pw && /tmp/pw/bin/pip install playwright
    /tmp/pw/bin/python tools/try_as_student.py --out build/student-screens
"""
from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ANSWERS = [  # (text that finds the answer cell, what the student types, what the verdict must say)
    ("answer_q1 = None", "answer_q1 = 70_000 * 28 * 28  # every image",
     "counts the 10,000 test images too"),
    ("def majority_baseline", "def majority_baseline(y_train, y_test):\n    majority = np.bincount(y_train).argmax()\n"
                              "    return float(np.mean(y_test == majority))",
     "passes all 3 hidden cases"),
    ("def class_means", "def class_means(images, labels, n_classes):\n    out = []\n    for k in range(n_classes):\n"
                        "        total = np.zeros_like(images[0])\n        for img in images[labels == k]:\n"
                        "            total += img\n        out.append(total / (labels == k).sum())\n"
                        "    return np.stack(out)",
     "your sums wrapped around"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_idle(page, ms: int = 300_000) -> None:
    page.wait_for_function("() => ![...document.querySelectorAll('.jp-InputArea-prompt')]"
                           ".some(e => e.textContent.includes('*'))", timeout=ms)


def _type_and_run(page, find: str, source: str, runs: int = 2) -> None:
    cell = page.locator(".jp-CodeCell").filter(has_text=find).first
    cell.scroll_into_view_if_needed()
    cell.locator(".cm-content").click()
    page.keyboard.press("Control+a")
    page.keyboard.press("Delete")
    page.keyboard.insert_text(source)  # no auto-indent, unlike typing
    for _ in range(runs):  # the answer cell, then its check cell
        page.keyboard.press("Shift+Enter")
        page.wait_for_timeout(1_500)
        _wait_idle(page)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "build" / "student-screens"), help="where screenshots go")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    python = ROOT / ".venv" / "bin" / "python"
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([str(python), "-m", "fmnist_helpers", "student", "--output-dir", f"{tmp}/student"], check=True)
        port, token = _free_port(), "try-as-student"
        env = dict(os.environ, FMNIST_PROFILE="smoke", FMNIST_PROGRESS="summary")
        lab = subprocess.Popen([str(python), "-m", "jupyter", "lab", "--no-browser", "--allow-root", f"--port={port}",
                                "--ServerApp.ip=127.0.0.1", f"--ServerApp.token={token}", f"--notebook-dir={tmp}"],
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            time.sleep(6)
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=args.chromium, args=["--no-sandbox"])
                page = browser.new_page(viewport={"width": 1400, "height": 1100})
                page.goto(f"http://127.0.0.1:{port}/lab/tree/student/01_exploration.ipynb?token={token}")
                page.wait_for_selector(".jp-Notebook", timeout=60_000)
                page.wait_for_timeout(3_000)
                page.click("li.lm-MenuBar-item:has-text('Run')")
                page.click("text=Run All Cells")
                page.wait_for_timeout(3_000)
                _wait_idle(page)
                failures = []
                for find, source, expected in ANSWERS:
                    _type_and_run(page, find, source)
                    if expected not in page.content():
                        failures.append(f"after answering {find!r}: the page does not say {expected!r}")
                _type_and_run(page, "ex.q3.check(class_means)", "ex.q3.check(class_means)\nex.q3.hint()", runs=1)
                last = page.locator(".jp-CodeCell").last
                last.scroll_into_view_if_needed()
                last.locator(".cm-content").click()
                page.keyboard.press("Shift+Enter")
                page.wait_for_timeout(2_000)
                for name, text in [("q1-q2", "Exercise 1 ·"), ("q3-hint", "Exercise 3 ·"), ("progress", "Your progress")]:
                    page.locator(".jp-Cell").filter(has_text=text).first.evaluate(
                        "e => e.scrollIntoView({block: 'start'})")
                    page.wait_for_timeout(800)
                    page.screenshot(path=str(out / f"{name}.png"))
                if "1 of 5 exercises correct" not in page.content():
                    failures.append("the progress table does not count one correct exercise")
                browser.close()
        finally:
            lab.terminate()
            lab.wait(30)
    for line in failures:
        print(f"FAILED: {line}", file=sys.stderr)
    print(f"screenshots in {out}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
