"""The HTML report in a real headless browser (Debian's chromium, installed by `make test`).

The page is made by the real CLI from a report holding `<script>alert(1)</script>`, opened in
chromium driven over the Chrome DevTools Protocol: no dialog may fire, the script shows as text,
a real mouse click on the first achievement marks its evidence `active` and scrolls the source
pane to it. The screenshot after the click is saved as artifacts/html-report.png.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path, PurePath
from typing import Any
from urllib.parse import unquote
from urllib.request import urlopen

import pytest
from helpers import ROOT, run_cli
from websockets.sync.client import ClientConnection, connect

from reportsum.outputs.html import IndexEntry, render_index

ARTIFACT = ROOT / "artifacts" / "html-report.png"
# `#` and a space in the name: the index link must be percent-encoded to reach the page.
REPORT_NAME = "县农业农村局 总结#1.txt"
PAGE_NAME = "县农业农村局 总结#1.html"

# Background paragraphs (no figures, no cue words) push the achievements below the fold, so
# the click must scroll.
_BACKGROUND = "\n".join(
    f"关于{topic},全县上下凝聚共识,干部群众精神面貌焕然一新,社会各界反响良好。"
    for topic in ("党建引领", "理论学习", "作风建设", "耕地保护", "种业振兴", "农业机械化", "畜牧兽医",
                  "渔业发展", "农产品质量安全", "农村改革", "乡村建设", "人居环境整治", "防汛抗旱",
                  "安全生产", "信访维稳", "乡村治理", "宣传信息", "人才队伍", "财务管理", "档案管理",
                  "统计监测", "执法监管", "疫病防控", "对口帮扶", "营商环境", "数字农业")
)

REPORT = f"""县农业农村局2024年工作总结和2025年工作打算

2024年,县农业农村局坚持稳中求进,统筹推进乡村振兴各项工作,现将有关情况总结如下。
<script>alert(1)</script>
{_BACKGROUND}

一、主要成效
(一)粮食生产稳中有增。全年粮食播种面积达到52.3万亩,总产量4.86亿斤,同比增长3.2%。
(二)农民收入持续提高。农村居民人均可支配收入达到21560元,增长7.1%。
(三)项目建设加快推进。完成高标准农田建设3.5万亩,落实各级投资10.69亿元。

二、主要措施
(一)强化政策落实。全年发放耕地地力保护补贴1.2亿元,惠及农户8.6万户。
(二)加强技术服务。组织农技人员下乡指导1200人次,举办培训班46期。

三、存在问题
一是农业产业链条较短,精深加工能力不足。二是村级集体经济发展不平衡,12个村年收入低于10万元。

四、2025年工作打算
(一)稳定粮食生产,确保播种面积稳定在52万亩以上。
(二)新建高标准农田2万亩,力争农村居民人均可支配收入增长7%以上。
(三)深化农村集体产权制度改革。进一步盘活农村闲置"""


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


class Cdp:
    """A minimal Chrome DevTools Protocol client for one page target; every wait is bounded."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.events: list[dict[str, Any]] = []
        self._next = 0

    def _recv(self, deadline: float) -> dict[str, Any]:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("no answer from chromium")
        msg: dict[str, Any] = json.loads(self.ws.recv(timeout=left))
        if msg.get("method") == "Page.javascriptDialogOpening":
            # Record the dialog and dismiss it, or the page would hang on it.
            self.ws.send(json.dumps({"id": -1, "method": "Page.handleJavaScriptDialog",
                                     "params": {"accept": True}}))
        if "method" in msg:
            self.events.append(msg)
        return msg

    def send(self, method: str, params: dict[str, Any] | None = None, timeout: float = 10) -> Any:
        self._next += 1
        self.ws.send(json.dumps({"id": self._next, "method": method, "params": params or {}}))
        deadline = time.monotonic() + timeout
        while True:
            msg = self._recv(deadline)
            if msg.get("id") == self._next:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg["result"]

    def wait_event(self, method: str, since: int, timeout: float = 10) -> dict[str, Any]:
        """The first `method` event from `self.events[since:]`, waiting for it if need be."""
        deadline = time.monotonic() + timeout
        seen = since
        while True:
            for ev in self.events[seen:]:
                if ev["method"] == method:
                    return ev
            seen = len(self.events)
            self._recv(deadline)

    def js(self, expression: str) -> Any:
        res = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        if "exceptionDetails" in res:
            raise RuntimeError(f"{expression}: {res['exceptionDetails']}")
        return res["result"].get("value")

    def open(self, url: str) -> None:
        mark = len(self.events)
        self.send("Page.navigate", {"url": url})
        self.wait_event("Page.loadEventFired", since=mark)

    def click(self, selector: str) -> None:
        """A real mouse click at the middle of the element (not a synthetic `el.click()`)."""
        x, y = self.js(
            f"(() => {{ const r = document.querySelector({json.dumps(selector)}).getBoundingClientRect();"
            " return [r.x + r.width / 2, r.y + r.height / 2]; })()"
        )
        for kind in ("mousePressed", "mouseReleased"):
            self.send("Input.dispatchMouseEvent",
                      {"type": kind, "x": x, "y": y, "button": "left", "clickCount": 1})


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The output folder of `reportsum summarise REPORT --format html --out DIR`."""
    base = tmp_path_factory.mktemp("html")
    report = base / REPORT_NAME
    report.write_text(REPORT, encoding="utf-8")
    out = base / "out"
    proc = run_cli("summarise", str(report), "--format", "html", "--out", str(out), home=base / "home")
    assert proc.returncode == 0, proc.stderr
    return out


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cdp]:
    """A headless chromium (killed afterwards, with its children) and a CDP session on its page."""
    exe = _chromium()
    if exe is None:
        pytest.skip("chromium not found on PATH: `make test` installs it (apt-get install chromium)")
    profile = tmp_path_factory.mktemp("chromium-profile")
    proc = subprocess.Popen(
        [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={profile}", "--remote-debugging-port=0", "--window-size=1280,900",
         "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    try:
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 20
        while not (port_file.is_file() and len(port_file.read_text().splitlines()) >= 2):
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"chromium did not start (exit code {proc.poll()})")
            time.sleep(0.05)
        port = port_file.read_text().splitlines()[0]
        with urlopen(f"http://127.0.0.1:{port}/json/list", timeout=5) as resp:
            targets = json.load(resp)
        page_url = next(t["webSocketDebuggerUrl"] for t in targets if t["type"] == "page")
        with connect(page_url, open_timeout=10, max_size=None) as ws:
            cdp = Cdp(ws)
            cdp.send("Page.enable")
            cdp.send("Runtime.enable")
            cdp.send("Emulation.setDeviceMetricsOverride",
                     {"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": False})
            yield cdp
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def test_cli_writes_an_index_linking_each_page(pages: Path):
    index = (pages / "index.html").read_text(encoding="utf-8")
    hrefs = [part.split('"', 1)[0] for part in index.split('href="')[1:]]
    assert len(hrefs) == 1 and "#" not in hrefs[0] and not hrefs[0].startswith(("/", "file:"))
    assert unquote(hrefs[0]) == PAGE_NAME and (pages / PAGE_NAME).is_file()
    assert "县农业农村局2024年工作总结和2025年工作打算" in index


def test_index_escapes_titles_and_keeps_links_relative():
    page = render_index([IndexEntry(href=PurePath("a b/<x>.html"), source="<b>r.txt</b>",
                                    title="<script>alert(1)</script>", documents=1, items=2,
                                    rejected=0, warnings=0)])
    assert "<script>alert" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<b>r.txt" not in page and 'href="a%20b/%3Cx%3E.html"' in page


def test_clicking_an_item_highlights_and_scrolls_to_its_evidence(pages: Path, browser: Cdp):
    browser.open((pages / PAGE_NAME).as_uri())
    assert browser.js("document.readyState") == "complete"
    # The report's <script> line is text in the source pane, laid out and visible, never run.
    assert browser.js("document.getElementById('source').textContent.includes('<script>alert(1)</script>')")
    assert browser.js("document.scripts.length") == 1
    assert browser.js("""(() => {
        const pane = document.getElementById('source');
        const walker = document.createTreeWalker(pane, NodeFilter.SHOW_TEXT);
        for (let n = walker.nextNode(); n; n = walker.nextNode()) {
            const i = n.data.indexOf('<script>');
            if (i < 0) continue;
            const range = document.createRange();
            range.setStart(n, i); range.setEnd(n, i + 8);
            const r = range.getBoundingClientRect();
            return r.width > 0 && r.height > 0;
        }
        return false;
    })()""")
    assert browser.js("document.querySelector('.warn').textContent").startswith("⚠ truncated")
    assert browser.js("document.querySelectorAll('#source .num').length") >= 10

    first = "#summary h2 + ul .item"
    target = browser.js(f"document.querySelector('{first}').dataset.target")
    assert target == "ev-0-achievements-0"
    in_view = f"""(() => {{
        const pane = document.getElementById('source').getBoundingClientRect();
        const r = document.getElementsByClassName('{target}')[0].getBoundingClientRect();
        return r.top >= pane.top && r.bottom <= pane.bottom && r.bottom <= window.innerHeight;
    }})()"""
    assert browser.js(f"document.getElementsByClassName('{target}')[0].classList.contains('active')") is False
    assert browser.js(in_view) is False, "the evidence should start below the fold, or the scroll is untested"

    browser.click(first)
    deadline = time.monotonic() + 5
    while not browser.js(in_view) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert browser.js(in_view), "the source pane did not scroll to the evidence"
    assert browser.js(f"""[...document.getElementsByClassName('{target}')]
        .every(e => e.classList.contains('active'))""")
    assert browser.js("document.querySelectorAll('.ev.active').length") == browser.js(
        f"document.getElementsByClassName('{target}').length")
    assert "52.3万亩" in browser.js("[...document.querySelectorAll('.ev.active')].map(e => e.textContent).join('')")
    assert browser.js(f"document.querySelector('{first}').classList.contains('selected')")

    shot = browser.send("Page.captureScreenshot", {"format": "png"})
    ARTIFACT.parent.mkdir(exist_ok=True)
    ARTIFACT.write_bytes(base64.b64decode(shot["data"]))
    assert ARTIFACT.read_bytes().startswith(b"\x89PNG")
    assert not [e for e in browser.events if e["method"] == "Page.javascriptDialogOpening"]


def test_index_link_opens_the_page(pages: Path, browser: Cdp):
    browser.open((pages / "index.html").as_uri())
    mark = len(browser.events)
    browser.click("a")
    browser.wait_event("Page.loadEventFired", since=mark)
    assert unquote(browser.js("location.pathname")).endswith("/out/" + PAGE_NAME)
    assert browser.js("document.querySelectorAll('.item').length") >= 3
    assert not [e for e in browser.events if e["method"] == "Page.javascriptDialogOpening"]


def test_index_columns_show_the_page_counts(pages: Path, browser: Cdp):
    """The index's row gives the page's numbers: items is the count of items on the page (it once
    showed `<built-in method items of dict ...>`)."""
    browser.open((pages / "index.html").as_uri())
    assert browser.js("document.readyState") == "complete"
    headers = browser.js("[...document.querySelectorAll('th')].map(e => e.textContent)")
    cells = browser.js("[...document.querySelectorAll('tr td.n')].map(e => e.textContent)")
    assert len(cells) == 4 and all(c.isdigit() for c in cells), cells
    shown = dict(zip(headers[1:], map(int, cells), strict=True))
    assert "built-in" not in browser.js("document.body.textContent")
    mark = len(browser.events)
    browser.click("a")
    browser.wait_event("Page.loadEventFired", since=mark)
    assert shown["条目 items"] == browser.js("document.querySelectorAll('#summary .item').length") > 0
    assert shown["文档 docs"] == 1


def test_index_after_a_resume_still_lists_every_page(tmp_path):
    reports = []
    for k in range(3):
        p = tmp_path / f"in/镇{k}2024年工作总结.txt"
        p.parent.mkdir(exist_ok=True)
        p.write_text(f"镇{k}2024年工作总结\n全年新增科技型企业{k + 3}家，研发投入增长{k + 5}.5%。\n", encoding="utf-8")
        reports.append(p)
    out = tmp_path / "out"
    first = run_cli("summarise", str(reports[0]), str(reports[1]), "--format", "html", "--out", str(out), home=tmp_path)
    assert first.returncode == 0, first.stderr
    second = run_cli("summarise", *map(str, reports), "--format", "html", "--out", str(out), home=tmp_path)
    assert second.returncode == 0, second.stderr
    assert "2 skipped" in second.stderr
    index = (out / "index.html").read_text(encoding="utf-8")
    for p in reports:
        assert p.stem in index
