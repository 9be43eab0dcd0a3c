"""End to end for class rooms: a teacher tab and student tabs with fake cameras, on one server and on two."""

from __future__ import annotations

import re
import urllib.parse

import pytest

from tests.support.browser import (
    ARTIFACTS,
    metric_value,
    press_start,
    streamlit_server,
)
from tests.support.redis_server import RedisProcess

pytestmark = pytest.mark.browser


def wait_for_metric(page, label: str, expected: int, timeout_s: float = 45) -> None:
    for _ in range(int(timeout_s * 4)):
        if metric_value(page, label) == expected:
            return
        page.wait_for_timeout(250)
    raise AssertionError(f"{label} stayed at {metric_value(page, label)}, expected {expected}")


def roster_shows(page, text: str) -> None:
    """Wait for the roster table to show `text` (the view re-renders every 2 s, so read it as it settles)."""
    page.locator('[data-testid="stTable"]', has_text=text).first.wait_for(timeout=20_000)


def create_room(browser, url: str) -> tuple[object, str]:
    teacher = browser.new_context(viewport={"width": 1280, "height": 1400}).new_page()
    teacher.goto(f"{url}/teach")
    teacher.get_by_role("textbox", name="Class name").fill("Biology, week 3")
    teacher.get_by_role("button", name="Create a class room").click()
    teacher.wait_for_url(re.compile(r"room=[A-Z0-9]{6}"), timeout=30_000)
    code = urllib.parse.parse_qs(urllib.parse.urlsplit(teacher.url).query)["room"][0]
    return teacher, code


def join_and_stream(browser, url: str, code: str, name: str):
    student = browser.new_context(permissions=["camera"], viewport={"width": 1280, "height": 900}).new_page()
    student.goto(f"{url}/join?room={code}")
    student.get_by_role("textbox", name="Display name (optional)").fill(name)
    join = student.get_by_role("button", name="Join the class")
    assert join.is_disabled()  # no consent, no joining
    student.get_by_text("I agree to share my emotion figures").click()
    join.click()
    student.get_by_text(f"you are {name}").wait_for(timeout=30_000)
    press_start(student, lambda: student.get_by_text(re.compile(r"[1-9]\d* face\(s\) in view")).count() > 0)
    return student


def test_two_students_and_a_teacher_on_one_server(browser):
    ARTIFACTS.mkdir(exist_ok=True)
    with streamlit_server(log_path=ARTIFACTS / "streamlit-class.log") as server:
        teacher, code = create_room(browser, server.url)
        ada = join_and_stream(browser, server.url, code, "Ada")
        ben = join_and_stream(browser, server.url, code, "Ben")
        wait_for_metric(teacher, "Connected", 2)
        wait_for_metric(teacher, "Face in view", 2)
        teacher.locator('[data-testid="stVegaLiteChart"]').first.wait_for(timeout=20_000)
        teacher.screenshot(path=str(ARTIFACTS / "teacher.png"), full_page=True)
        roster_shows(teacher, "Ada")
        roster_shows(teacher, "Ben")

        ada.get_by_role("button", name="Leave the class").click()
        wait_for_metric(teacher, "Left or dropped", 1)
        wait_for_metric(teacher, "Connected", 1)
        ben.context.close()  # a closed tab: no goodbye, only silence
        wait_for_metric(teacher, "Left or dropped", 2)
        roster_shows(teacher, "dropped")

        late = browser.new_context().new_page()
        late.goto(f"{server.url}/join?room={code}")
        late.get_by_role("textbox", name="Display name (optional)").fill("ben")
        late.get_by_text("I agree to share my emotion figures").click()
        late.get_by_role("button", name="Join the class").click()
        late.get_by_text("already uses the name 'ben'").wait_for(timeout=20_000)
        late.goto(f"{server.url}/join?room=ZZZZZZ")
        late.get_by_text("no open class with the code ZZZZZZ").wait_for(timeout=20_000)
        for page in (teacher, late):
            assert page.locator('[data-testid="stException"]').count() == 0


def test_student_and_teacher_on_two_replicas_share_one_redis(browser, tmp_path):
    redis = RedisProcess(tmp_path).start()
    try:
        env = {"REDIS_URL": redis.url}
        with streamlit_server(env) as replica_a, streamlit_server(env) as replica_b:
            teacher, code = create_room(browser, replica_b.url)
            join_and_stream(browser, replica_a.url, code, "Cleo")
            wait_for_metric(teacher, "Connected", 1)
            wait_for_metric(teacher, "Face in view", 1)
            roster_shows(teacher, "Cleo")
    finally:
        redis.stop()
