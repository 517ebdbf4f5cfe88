"""The web interview in a real browser: Debian's Chromium driven by Playwright, against
`kneesource serve` in its own process, on a phone-sized window.

Accessibility is checked with axe-core (from npm; `scripts/check` installs it into .cache/) on
every kind of page: no serious or critical violation. With ``KNEESOURCE_SCREENSHOTS=DIR`` the
main pages are saved there as PNG (the pictures in docs/screenshots come from this)."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.web.conftest import CHROMIUM, Server, missing, stored_codes

AXE = (
    Path(__file__).resolve().parents[2]
    / ".cache"
    / "axe"
    / "node_modules"
    / "axe-core"
    / "axe.min.js"
)
PHONE = {"width": 390, "height": 844}
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SHOTS = os.environ.get("KNEESOURCE_SCREENSHOTS")

playwright = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        missing("Chromium (Debian package chromium)")
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: object) -> Iterator[object]:
    context = browser.new_context(viewport=PHONE)  # type: ignore[attr-defined]
    yield context.new_page()
    context.close()


def shot(page: object, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)  # type: ignore[attr-defined]


def axe_violations(browser: object, url: str) -> list[dict[str, object]]:
    """Serious and critical axe-core violations of the page at ``url``."""
    if not AXE.exists():
        missing("axe-core (npm; scripts/check installs it)")
    # The page's content security policy forbids injected scripts; only this checking context
    # bypasses it.
    context = browser.new_context(viewport=PHONE, bypass_csp=True)  # type: ignore[attr-defined]
    try:
        p = context.new_page()
        p.goto(url)
        p.add_script_tag(content=AXE.read_text())
        result = p.evaluate("async () => JSON.stringify(await axe.run(document))")
    finally:
        context.close()
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]]}
        for v in json.loads(result)["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def step(page: object, act: Callable[[], object]) -> None:
    """Do ``act`` (a click that answers) and wait for the next page: with JavaScript the page's
    main part is swapped in place, so there is no navigation to wait for. Every page marks its
    step on ``main``."""
    before = page.locator("main").get_attribute("data-step")  # type: ignore[attr-defined]
    act()
    page.wait_for_function(  # type: ignore[attr-defined]
        "s => document.querySelector('main') && document.querySelector('main').dataset.step !== s",
        arg=before,
    )


def start(page: object, server: Server, clinician: bool = False) -> None:
    page.goto(server.url + "/")  # type: ignore[attr-defined]
    name = "Start as a clinician" if clinician else "Start: I have knee pain"
    step(page, page.get_by_role("button", name=re.compile(name)).click)  # type: ignore[attr-defined]


def next_(page: object) -> None:
    step(page, page.get_by_role("button", name="Next").click)  # type: ignore[attr-defined]


def answer_age_and_sex(page: object, age: int = 68, sex: str = "Female") -> None:
    page.get_by_label("Age in whole years").fill(str(age))  # type: ignore[attr-defined]
    next_(page)
    page.get_by_label(sex, exact=True).check()  # type: ignore[attr-defined]
    next_(page)


def heading(page: object) -> str:
    return str(page.locator("h1").first.inner_text())  # type: ignore[attr-defined]


def finish(page: object, limit: int = 60) -> int:
    """Answer "No" to yes/no questions and nothing ticked to checklists until the result."""
    for answered in range(limit):
        if page.locator(".banner").count():  # type: ignore[attr-defined]
            return answered
        if page.get_by_role("button", name="No", exact=True).count():  # type: ignore[attr-defined]
            step(page, page.get_by_role("button", name="No", exact=True).click)  # type: ignore[attr-defined]
        elif page.locator("input[type=radio]").count():  # type: ignore[attr-defined]
            page.locator("input[type=radio]").first.check()  # type: ignore[attr-defined]
            next_(page)
        else:
            next_(page)
    raise AssertionError(f"no result after {limit} answers")


def test_a_whole_patient_interview_on_a_phone(page: object, server: Server) -> None:
    refused: list[str] = []
    page.on(  # type: ignore[attr-defined]
        "console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None
    )
    start(page, server)
    shot(page, "question-age")
    # With JavaScript, answers swap the page's main part in place (htmx): no page load.
    page.evaluate("window.kneesourceMarker = 1")  # type: ignore[attr-defined]
    answer_age_and_sex(page)
    assert page.evaluate("window.kneesourceMarker") == 1  # type: ignore[attr-defined]
    assert "Where does the knee hurt" in heading(page)
    # The body map: a tap on the kneecap ticks "At the front", a second tap unticks it.
    front = page.locator("#opt-front")  # type: ignore[attr-defined]
    region = page.locator('.region.active[data-option="front"]')  # type: ignore[attr-defined]
    region.click()
    assert front.is_checked() and "on" in (region.get_attribute("class") or "")
    region.click()
    assert not front.is_checked()
    page.locator('.region.active[data-option="inner"]').click()  # type: ignore[attr-defined]
    assert page.locator("#opt-inner").is_checked()  # type: ignore[attr-defined]
    shot(page, "question-body-map")
    next_(page)
    steps = finish(page)
    assert steps > 3
    banner = page.locator(".banner")  # type: ignore[attr-defined]
    assert re.search(r"(Emergency|Urgent|Soon|Self-care)", banner.inner_text())
    text = page.locator("main").inner_text()  # type: ignore[attr-defined]
    assert "Most likely causes" in text and "Where the pain comes from" in text
    assert "decision support, not a diagnosis" in page.locator("footer").inner_text()  # type: ignore[attr-defined]
    assert page.locator(".picture svg").count() == 1  # type: ignore[attr-defined]
    # Each cause opens to what supports it and what speaks against it.
    first = page.locator(".causes details").first  # type: ignore[attr-defined]
    first.locator("summary").click()
    assert first.locator(".cause-more").is_visible()
    shot(page, "result")
    # The report for the clinician downloads from the result page.
    with page.expect_download() as download:  # type: ignore[attr-defined]
        page.get_by_role("link", name=re.compile("Download the report")).click()  # type: ignore[attr-defined]
    assert Path(download.value.path()).read_bytes().startswith(b"%PDF")
    assert refused == []  # nothing the page runs breaks its content security policy


def test_the_interview_works_with_javascript_off(browser: object, server: Server) -> None:
    context = browser.new_context(viewport=PHONE, java_script_enabled=False)  # type: ignore[attr-defined]
    try:
        p = context.new_page()
        p.goto(server.url + "/")
        p.get_by_role("button", name="Start: I have knee pain").click()
        p.wait_for_url(re.compile(r"/interviews/"))
        p.get_by_label("Age in whole years").fill("15")
        p.get_by_role("button", name="Next").click()
        p.wait_for_selector("text=What is your sex")
        p.get_by_label("Male", exact=True).check()
        p.get_by_role("button", name="Next").click()
        p.wait_for_selector("text=Where does the knee hurt")
        p.locator("#opt-below_kneecap").check()
        p.locator("#unsure-front").check()  # a checklist answered in part works without script
        p.get_by_role("button", name="Next").click()
        p.wait_for_selector("text=Question 4")
    finally:
        context.close()


def test_not_sure_beside_a_checklist_option(page: object, server: Server) -> None:
    start(page, server)
    answer_age_and_sex(page, 52)
    assert "Where does the knee hurt" in heading(page)
    front = page.locator("#opt-front")  # type: ignore[attr-defined]
    front.check()
    page.locator("#unsure-front").check()  # type: ignore[attr-defined]
    assert not front.is_checked()  # an option is ticked or not sure, never both
    front.check()
    assert not page.locator("#unsure-front").is_checked()  # type: ignore[attr-defined]
    page.locator("#unsure-front").check()  # type: ignore[attr-defined]
    page.locator("#opt-inner").check()  # type: ignore[attr-defined]
    next_(page)
    assert "Question 4" in page.locator(".progress").inner_text()  # type: ignore[attr-defined]
    # What was stored: the FHIR export of the interview lists the answer's codes.
    interview = page.url.rstrip("/").rsplit("/", 1)[-1]  # type: ignore[attr-defined]
    bundle = page.request.get(f"{server.url}/v1/interviews/{interview}/fhir").json()  # type: ignore[attr-defined]
    assert stored_codes(bundle, "where") == ["inner", "not_sure:front"]


def test_back_and_dont_know(page: object, server: Server) -> None:
    start(page, server)
    page.get_by_label("Age in whole years").fill("30")  # type: ignore[attr-defined]
    next_(page)
    assert "sex" in heading(page)
    step(page, page.get_by_role("button", name="Back to the previous question").click)  # type: ignore[attr-defined]
    assert "How old" in heading(page)
    page.get_by_label("Age in whole years").fill("30")  # type: ignore[attr-defined]
    next_(page)
    step(page, page.get_by_role("button", name="I don't know").click)  # type: ignore[attr-defined]
    assert "Where does the knee hurt" in heading(page)
    assert "Question 3" in page.locator(".progress").inner_text()  # type: ignore[attr-defined]


def test_resume_from_the_link_on_another_device(browser: object, server: Server) -> None:
    phone = browser.new_context(viewport=PHONE)  # type: ignore[attr-defined]
    laptop = browser.new_context(viewport={"width": 1280, "height": 800})  # type: ignore[attr-defined]
    try:
        p = phone.new_page()
        start(p, server)
        answer_age_and_sex(p, 45, "Male")
        link = p.locator(".resume a").get_attribute("href")
        assert link == p.url
        q = laptop.new_page()
        q.goto(link)
        assert "Where does the knee hurt" in heading(q)
        assert "Question 3" in q.locator(".progress").inner_text()
    finally:
        phone.close()
        laptop.close()


def test_clinician_mode_shows_how_to_do_each_test(page: object, server: Server) -> None:
    start(page, server, clinician=True)
    assert "clinician mode" in page.locator(".progress").inner_text()  # type: ignore[attr-defined]
    answer_age_and_sex(page, 24, "Male")
    page.locator("#opt-inner").check()  # type: ignore[attr-defined]
    next_(page)
    for _ in range(40):
        if page.locator(".howto").count():  # type: ignore[attr-defined]
            break
        if page.locator(".banner").count():  # type: ignore[attr-defined]
            pytest.fail("the interview ended without an examination test")
        if page.get_by_role("button", name="Yes", exact=True).count():  # type: ignore[attr-defined]
            step(page, page.get_by_role("button", name="Yes", exact=True).click)  # type: ignore[attr-defined]
        else:
            next_(page)
    assert "How to do it" in page.locator(".howto").inner_text()  # type: ignore[attr-defined]
    shot(page, "question-clinician-test")


def tab_to(page: object, script: str, wanted: object, limit: int = 20) -> None:
    """Press Tab until ``script`` (about the focused element) gives ``wanted``."""
    for _ in range(limit):
        page.keyboard.press("Tab")  # type: ignore[attr-defined]
        if page.evaluate(script) == wanted:  # type: ignore[attr-defined]
            return
    raise AssertionError(f"Tab never reached {wanted!r}")


def settled(page: object) -> None:
    """Wait until a page swapped in place has settled: the focus is then on its heading (for
    screen readers), and a key pressed before that could go to the page before."""
    page.wait_for_function(  # type: ignore[attr-defined]
        "() => document.activeElement !== null && document.activeElement.matches('main h1')"
    )


def test_keyboard_only(page: object, server: Server) -> None:
    page.goto(server.url + "/")  # type: ignore[attr-defined]
    keys = page.keyboard  # type: ignore[attr-defined]
    # Past the skip link and the brand to the start button.
    tab_to(page, "document.activeElement.textContent.trim()", "Start: I have knee pain", 10)
    keys.press("Enter")
    page.wait_for_url(re.compile(r"/interviews/"))  # type: ignore[attr-defined]
    settled(page)
    tab_to(page, "document.activeElement.id", "age", 10)
    keys.type("52")
    keys.press("Enter")
    page.wait_for_selector("text=What is your sex")  # type: ignore[attr-defined]
    settled(page)
    tab_to(page, "document.activeElement.type", "radio", 10)
    keys.press("Space")
    keys.press("Enter")
    page.wait_for_selector("text=Where does the knee hurt")  # type: ignore[attr-defined]
    settled(page)
    tab_to(page, "document.activeElement.id", "opt-back")
    keys.press("Space")
    assert page.locator("#opt-back").is_checked()  # type: ignore[attr-defined]


def test_no_serious_accessibility_violation_on_any_page(
    browser: object, page: object, server: Server
) -> None:
    start(page, server)
    question_url = page.url  # type: ignore[attr-defined]
    answer_age_and_sex(page)
    map_url = page.url  # type: ignore[attr-defined]
    next_(page)
    finish(page)
    pages = {
        "home": server.url + "/",
        "question (body map)": map_url,
        "result": page.url,  # type: ignore[attr-defined]
        "error": server.url + "/interviews/no-such-interview",
    }
    assert question_url == map_url  # the interview keeps one address from start to result
    found = {name: axe_violations(browser, url) for name, url in pages.items()}
    assert found == {name: [] for name in pages}, found
