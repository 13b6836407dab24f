"""The HTML report in headless Chromium: the page loads, and every chart is drawn.

Chromium is Debian's ``chromium`` (``.ci/run`` installs it). Under ``CI=true`` the test must
run; elsewhere it skips with the reason when Chromium is missing. With
``JOBACCT_UPDATE_DOCS=1`` the screenshot is also copied to ``docs/report-failures.png``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.test_cli import jobacct
from tests.test_report_data import DAY, H, T, cancellation_jobs, fill, job, ran

DOCS_PNG = Path(__file__).resolve().parent.parent / "docs" / "report-failures.png"
CODES = [(1, 0), (1, 0), (2, 0), (0, 9), (127, 0), (0, 125), (1, 0), (0, 0), (137, 0)]
STATES = {(0, 125): "OUT_OF_MEMORY", (0, 0): "TIMEOUT"}
PEOPLE = ["alice", "bob", "carol", "dave"]


def _chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail("chromium is not installed (CI=true: the HTML test must run)")
        pytest.skip("chromium is not installed (Debian: apt-get install chromium)")
    return path


def _week_of_failures() -> list[Any]:
    """Failures over a week, with a deterministic spread of exit codes, users and sizes."""
    jobs = []
    n = 0
    for day in range(7):
        for k in range(3 + (day * 5) % 7):
            code, sig = CODES[(day + 2 * k) % len(CODES)]
            n += 1
            jobs.append(
                job(
                    1000 + n,
                    PEOPLE[(day + k) % 4],
                    account=("chem", "ml", "astro")[k % 3],
                    state=STATES.get((code, sig), "FAILED"),
                    ncpus=(1, 4, 16, 64)[(n * 7) % 4],
                    exit_code=code,
                    exit_signal=sig,
                    **ran(T - 5 * DAY + day * DAY + k * H, 600 + 300 * (n % 5)),
                )
            )
    return jobs


def _probe(chromium: str, page: Path, tmp_path: Path) -> dict[str, Any]:
    """Load a copy of the page with a script that reports each image's decoded size and box."""
    script = """<script>
window.addEventListener('load', () => {
  const imgs = [...document.images].map(i => {
    const r = i.getBoundingClientRect();
    return {alt: i.alt, complete: i.complete, w: i.naturalWidth, h: i.naturalHeight,
            x: r.left + window.scrollX, y: r.top + window.scrollY, bw: r.width, bh: r.height};
  });
  const out = document.createElement('pre');
  out.id = 'probe';
  out.textContent = JSON.stringify({imgs, height: document.documentElement.scrollHeight});
  document.body.appendChild(out);
});
</script>"""
    probe = tmp_path / "probe.html"
    probe.write_text(page.read_text().replace("</body>", script + "</body>"))
    dom = _run(chromium, tmp_path, "--dump-dom", "--virtual-time-budget=10000", probe)
    match = re.search(r'<pre id="probe">(.*?)</pre>', dom, re.S)
    assert match, dom[-2000:]
    data: dict[str, Any] = json.loads(match.group(1).replace("&quot;", '"'))
    return data


def _run(chromium: str, tmp_path: Path, *args: Any) -> str:
    result = subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
         "--force-device-scale-factor=1", f"--user-data-dir={tmp_path / 'profile'}",
         *[str(a) if not isinstance(a, Path) else a.as_uri() for a in args]],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def test_html_report_charts_are_drawn(sqlite_url: str, tmp_path: Path) -> None:
    chromium = _chromium()
    fill(sqlite_url, _week_of_failures() + cancellation_jobs())
    db = sqlite_url.removeprefix("sqlite:///")
    result = jobacct("report", "failures", "-S", "2026-11-15", "-E", "2026-11-22",
                     "--format", "html", db=db)  # fmt: skip
    assert result.returncode == 0, result.stderr
    page = tmp_path / "failures.html"
    page.write_text(result.stdout)
    # Self-contained: nothing is loaded from anywhere else.
    assert not re.search(r'(src|href)="(?!data:)', result.stdout)

    info = _probe(chromium, page, tmp_path)
    (img,) = info["imgs"]
    assert img["alt"] == "Failures per day by state and ExitCode"
    assert img["complete"] and (img["w"], img["h"]) == (900, 360)
    assert (img["bw"], img["bh"]) == (902, 362)  # drawn at its size, inside a 1 px border

    shot = tmp_path / "failures.png"
    height = int(info["height"]) + 20
    _run(chromium, tmp_path, f"--screenshot={shot}", f"--window-size=1000,{height}", page)
    picture = Image.open(shot).convert("RGB")
    x, y = int(img["x"]) + 1, int(img["y"]) + 1
    box = (x, y, x + img["w"], y + img["h"])
    chart = picture.crop(box)
    raw = chart.tobytes()
    pixels = [tuple(raw[i : i + 3]) for i in range(0, len(raw), 3)]
    ink = sum(1 for p in pixels if p != (255, 255, 255))
    assert ink / len(pixels) > 0.05  # bars, axes and labels, not an empty frame
    colours = {p for p in pixels if max(p) - min(p) > 60}  # saturated: the bars' colours
    assert len({(r // 32, g // 32, b // 32) for r, g, b in colours}) >= 4
    if os.environ.get("JOBACCT_UPDATE_DOCS") == "1":
        DOCS_PNG.parent.mkdir(exist_ok=True)
        picture.crop((0, 0, 1000, min(picture.height, 1300))).save(DOCS_PNG)


def test_html_cancellations_and_usage_pages(sqlite_url: str, tmp_path: Path) -> None:
    chromium = _chromium()
    fill(sqlite_url, cancellation_jobs())
    db = sqlite_url.removeprefix("sqlite:///")
    for kind, alt in (("cancellations", "Cancellations per user (job owner)"),
                      ("account-by-user", "Usage per account")):  # fmt: skip
        result = jobacct("report", kind, "-S", "2026-11-20", "-E", "2026-11-22",
                         "--format", "html", db=db)  # fmt: skip
        page = tmp_path / f"{kind}.html"
        page.write_text(result.stdout)
        (img,) = _probe(chromium, page, tmp_path)["imgs"]
        assert img["alt"] == alt
        assert img["complete"] and img["w"] == 900 and img["h"] > 100
