"""Headless Chromium for the review page and the live page: Debian's chromium (installed when missing), a person's
clicks on a page that saves a download, and a live page watched while it updates, driven over the DevTools
protocol (a WebSocket, through aiohttp)."""

import asyncio
import base64
import itertools
import shutil
import subprocess
import time
from contextlib import contextmanager
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


READY = "document.body !== null && document.body.dataset.ready === 'yes'"


async def _page(tools: DevTools, url: str) -> str:
    """A new tab at `url`; its session id."""
    target = (await tools.send("Target.createTarget", url="about:blank"))["targetId"]
    session = (await tools.send("Target.attachToTarget", targetId=target, flatten=True))["sessionId"]
    await tools.send("Runtime.enable", session)
    await tools.send("Page.navigate", session, url=url)
    return session


async def _value(tools: DevTools, session: str, expression: str):
    done = await tools.send("Runtime.evaluate", session, expression=expression, awaitPromise=True)
    assert "exceptionDetails" not in done, done
    return done["result"].get("value")


async def _until(tools: DevTools, session: str, expression: str, deadline: float, what: str):
    while not (value := await _value(tools, session, expression)):
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.2)
    return value


async def _clicks(address: str, page: Path, script: str, downloads: Path, timeout: float):
    async with aiohttp.ClientSession() as client, client.ws_connect(address, max_msg_size=0) as socket:
        tools = DevTools(socket)
        await tools.send("Browser.setDownloadBehavior", behavior="allow", downloadPath=str(downloads))
        session = await _page(tools, page.as_uri())
        deadline = time.monotonic() + timeout
        await _until(tools, session, READY, deadline, "the page's script never finished")
        done = await tools.send("Runtime.evaluate", session, expression=script, awaitPromise=True)
        assert "exceptionDetails" not in done, done
        while not [p for p in downloads.iterdir() if not p.name.endswith(".crdownload")]:
            assert time.monotonic() < deadline, "nothing was downloaded"
            await asyncio.sleep(0.2)
        return done["result"].get("value"), tools.problems()


@contextmanager
def browser(chromium: str, profile: Path, timeout: float):
    """Headless Chromium with its DevTools endpoint; yields the browser's WebSocket address."""
    running = subprocess.Popen([chromium, *FLAGS, f"--user-data-dir={profile}", "--remote-debugging-port=0",
                                "about:blank"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        active = profile / "DevToolsActivePort"  # the port Chromium chose, and the browser's WebSocket path
        deadline = time.monotonic() + timeout
        while not (active.is_file() and len(active.read_text().split()) == 2):
            assert time.monotonic() < deadline and running.poll() is None, "chromium did not start"
            time.sleep(0.1)
        port, path = active.read_text().split()
        yield f"ws://127.0.0.1:{port}{path}"
    finally:
        running.terminate()
        running.wait(timeout=30)


def click_and_download(chromium: str, page: Path, script: str, folder: Path, timeout: float = 90):
    """Open `page` in headless Chromium, run `script` in it as a person's clicks, wait for the file the page
    hands out; returns (that file, what `script` returned, the page's exceptions and console errors)."""
    downloads = folder / "downloads"
    downloads.mkdir(parents=True)
    with browser(chromium, folder / "profile", timeout) as address:
        said, problems = asyncio.run(_clicks(address, page, script, downloads, timeout))
    [saved] = list(downloads.iterdir())
    return saved, said, problems


async def _watch(address: str, url: str, steps, screenshot: Path | None, timeout: float):
    async with aiohttp.ClientSession() as client, client.ws_connect(address, max_msg_size=0) as socket:
        tools = DevTools(socket)
        session = await _page(tools, url)
        await tools.send("Emulation.setDeviceMetricsOverride", session, width=1280, height=1400, deviceScaleFactor=1,
                         mobile=False)
        deadline = time.monotonic() + timeout
        seen = []
        for what, expression in steps:  # each step: wait until its expression is true, keep what it said
            seen.append(await _until(tools, session, expression, deadline, f"the page never showed {what}"))
            if what == "the screenshot" and screenshot is not None:
                shot = await tools.send("Page.captureScreenshot", session, format="png")
                screenshot.write_bytes(base64.b64decode(shot["data"]))
        return seen, tools.problems()


def watch_live_page(chromium: str, url: str, steps: list[tuple[str, str]], folder: Path,
                    screenshot: Path | None = None, timeout: float = 180):
    """Open a live `url` in headless Chromium and go through `steps` [(what, a JavaScript expression)], each waited
    for until it is true (the step named "the screenshot" is followed by one, saved at `screenshot`); returns
    (what each step's expression gave, the page's exceptions and console errors)."""
    with browser(chromium, folder / "profile", timeout) as address:
        return asyncio.run(_watch(address, url, steps, screenshot, timeout))
