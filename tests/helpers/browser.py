"""Headless Chromium for the review page: Debian's chromium (installed when missing), and a person's clicks on a
page that saves a download, driven over the DevTools protocol (a WebSocket, through aiohttp)."""

import asyncio
import itertools
import shutil
import subprocess
import time
from pathlib import Path

import aiohttp
import pytest

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="session")
def chromium():
    """Debian's chromium, installed when missing; the test is skipped only when it cannot be installed."""
    if not shutil.which("chromium"):
        for command in (["apt-get", "update", "-q"], ["apt-get", "install", "-y", "-q", "chromium"]):
            try:
                subprocess.run(command, check=True, capture_output=True, timeout=900)
            except (OSError, subprocess.SubprocessError) as e:
                pytest.skip(f"chromium is not installed and cannot be installed here ({type(e).__name__})")
    return shutil.which("chromium")


class DevTools:
    """One WebSocket to the browser; commands to it or to a page's session, the events that came meanwhile."""

    def __init__(self, socket):
        self.socket, self.ids, self.events = socket, itertools.count(1), []

    async def send(self, method: str, session: str | None = None, **params) -> dict:
        number = next(self.ids)
        await self.socket.send_json({"id": number, "method": method, "params": params,
                                     **({"sessionId": session} if session else {})})
        async for message in self.socket:
            data = message.json()
            if data.get("id") == number:
                if "error" in data:
                    raise RuntimeError(f"{method}: {data['error']}")
                return data["result"]
            self.events.append(data)
        raise RuntimeError(f"{method}: the browser closed the connection")

    def problems(self) -> list[str]:
        """The page's uncaught exceptions and console errors so far."""
        return [str(e["params"]) for e in self.events if e.get("method") == "Runtime.exceptionThrown" or (
            e.get("method") == "Runtime.consoleAPICalled" and e["params"].get("type") == "error")]


async def _clicks(address: str, page: Path, script: str, downloads: Path, timeout: float):
    async with aiohttp.ClientSession() as client, client.ws_connect(address, max_msg_size=0) as socket:
        tools = DevTools(socket)
        await tools.send("Browser.setDownloadBehavior", behavior="allow", downloadPath=str(downloads))
        target = (await tools.send("Target.createTarget", url="about:blank"))["targetId"]
        session = (await tools.send("Target.attachToTarget", targetId=target, flatten=True))["sessionId"]
        await tools.send("Runtime.enable", session)
        await tools.send("Page.navigate", session, url=page.as_uri())
        deadline = time.monotonic() + timeout
        ready = "document.body !== null && document.body.dataset.ready === 'yes'"
        while not (await tools.send("Runtime.evaluate", session, expression=ready))["result"].get("value"):
            assert time.monotonic() < deadline, "the page's script never finished"
            await asyncio.sleep(0.2)
        done = await tools.send("Runtime.evaluate", session, expression=script, awaitPromise=True)
        assert "exceptionDetails" not in done, done
        while not [p for p in downloads.iterdir() if not p.name.endswith(".crdownload")]:
            assert time.monotonic() < deadline, "nothing was downloaded"
            await asyncio.sleep(0.2)
        return done["result"].get("value"), tools.problems()


def click_and_download(chromium: str, page: Path, script: str, folder: Path, timeout: float = 90):
    """Open `page` in headless Chromium, run `script` in it as a person's clicks, wait for the file the page
    hands out; returns (that file, what `script` returned, the page's exceptions and console errors)."""
    profile, downloads = folder / "profile", folder / "downloads"
    downloads.mkdir(parents=True)
    browser = subprocess.Popen([chromium, *FLAGS, f"--user-data-dir={profile}", "--remote-debugging-port=0",
                                "about:blank"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        active = profile / "DevToolsActivePort"  # the port Chromium chose, and the browser's WebSocket path
        deadline = time.monotonic() + timeout
        while not (active.is_file() and len(active.read_text().split()) == 2):
            assert time.monotonic() < deadline and browser.poll() is None, "chromium did not start"
            time.sleep(0.1)
        port, path = active.read_text().split()
        said, problems = asyncio.run(_clicks(f"ws://127.0.0.1:{port}{path}", page, script, downloads, timeout))
    finally:
        browser.terminate()
        browser.wait(timeout=30)
    [saved] = list(downloads.iterdir())
    return saved, said, problems
