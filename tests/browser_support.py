"""JupyterLab in a real browser for the tests: Debian's Chromium driven by Playwright.

``lab_server`` starts JupyterLab on a free port over a folder (a copy of the lessons);
``open_browser`` launches Chromium with the flags this network needs. Screenshots of
failures go to ``test-artifacts/`` (``screenshot_on_failure``).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"


def browser_available() -> bool:
    try:
        import playwright  # noqa: F401
    except ImportError:
        return False
    return CHROMIUM.exists()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def lab_server(root: Path, log: Path) -> Iterator[str]:
    """JupyterLab serving ``root``; yields its base URL. The settings overrides of the
    environment (``bncourse lab-settings``) apply, as they do for a learner."""
    port = _free_port()
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        f"--port={port}",
        "--ServerApp.ip=127.0.0.1",
        "--IdentityProvider.token=",
        "--ServerApp.password=",
        "--ServerApp.disable_check_xsrf=True",
        f"--ServerApp.root_dir={root}",
        "--LabApp.news_url=",
        "--LabApp.expose_app_in_browser=True",
        "--allow-root",
    ]
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(root / ".jupyter-config")}
    env.pop("BNCOURSE_STRICT_CLAIMS", None)  # a learner's kernel: claims never raise
    with log.open("w") as handle:
        process = subprocess.Popen(command, stdout=handle, stderr=subprocess.STDOUT, env=env)
        try:
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    time.sleep(0.3)
            else:
                raise RuntimeError(f"JupyterLab did not start; see {log}")
            yield f"http://127.0.0.1:{port}"
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


@contextlib.contextmanager
def open_browser(width: int = 1280, height: int = 800) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            yield page
        finally:
            browser.close()


@contextlib.contextmanager
def screenshot_on_failure(page: Any, name: str) -> Iterator[None]:
    try:
        yield
    except BaseException:
        ARTIFACTS.mkdir(exist_ok=True)
        with contextlib.suppress(Exception):
            page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=False)
        raise


def copy_lessons(source: Path, target: Path, names: list[str]) -> Path:
    target.mkdir(parents=True, exist_ok=True)
    for name in names:
        shutil.copy(source / name, target / name)
    return target


def open_notebook(page: Any, base: str, name: str) -> None:
    """Open a notebook and wait until its kernel is idle."""
    page.goto(f"{base}/lab/tree/{name}", wait_until="domcontentloaded")
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=90_000)
    page.wait_for_selector(".jp-StatusBar-TextItem:has-text('Idle')", timeout=90_000)
    with contextlib.suppress(Exception):  # "get notified about news?" toast
        page.click(".jp-Notification-Toast button:has-text('No')", timeout=2_000)


def run_all(page: Any, timeout_ms: int = 180_000) -> None:
    """Run > Run All Cells, through the menu, then wait until the kernel is idle again."""
    page.click("div.lm-MenuBar-itemLabel:text-is('Run')")
    page.click("li.lm-Menu-item:has-text('Run All Cells')")
    page.wait_for_timeout(1_500)
    page.wait_for_function(
        "() => !document.querySelector('.jp-Notebook .jp-InputPrompt')"
        "  || ![...document.querySelectorAll('.jp-Notebook .jp-InputPrompt')]"
        "      .some(p => p.textContent.includes('[*]'))",
        timeout=timeout_ms,
    )
    page.wait_for_selector(".jp-StatusBar-TextItem:has-text('Idle')", timeout=timeout_ms)


def cell_index_containing(page: Any, text: str) -> int:
    """The index of the first code cell whose source contains ``text``."""
    return int(
        page.evaluate(
            """(text) => {
              const cells = window.jupyterapp.shell.currentWidget.content.widgets;
              return cells.findIndex(c => c.model.type === 'code'
                                          && c.model.sharedModel.getSource().includes(text));
            }""",
            text,
        )
    )


def cell(page: Any, index: int) -> Any:
    return page.locator(".jp-Notebook .jp-Cell").nth(index)
