"""50 applicants at once through the whole flow, driven by locust (as a library, headless).

Run by bench/run.py in a process of its own (locust patches the standard library with
gevent on import), against a gunicorn server behind ProxyFix (AANSLUITEN_PROXIES=1) in
demo mode: every applicant comes from a client address of its own (X-Forwarded-For), as
50 people at 50 browsers do, so that the per-client rate limits of steps 1 and 2 see 50
clients. Each applicant, a browser without JavaScript (forms posted, 303s followed):

  1. opens step 1, asks for a link for an address of its own, reads it in the demo
     mailbox (/demo/mailbox, the outbox of the demo), opens it and confirms;
  2-8. fills in every step as a person would: a KvK number and AGB code (the 1-code,
     10-code and 177-code organisations in turn), yes, the signatory chosen and their
     birth date, e-mail and mobile typed, a main contact, every code given the main contact, no ICT
     administrator, the services confirmed;
  9. ticks the declaration and submits (the agreement PDF is made), and sees step 10.

Between reading a page and sending its form it thinks THINK_S seconds (uniform). An
error is any answer with another status than expected, a 200 with HX-Redirect, a page
other than the one asked for (its <h1>), a 303 to another place than the next step, or
a link not found in the mailbox; the applicant stops at its first error.

Configuration: a JSON object in the environment variable BENCH_APPLICANTS (host, users,
run, companies, titles, think_s, timeout_s). Prints, as its last line, "bench-applicants"
and a JSON object with the counts and latencies that bench/run.py reads.
"""

from gevent import monkey

monkey.patch_all()

import itertools  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import re  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from urllib.parse import urlsplit  # noqa: E402

import gevent  # noqa: E402
from locust import HttpUser, constant, task  # noqa: E402
from locust.env import Environment  # noqa: E402
from locust.exception import StopUser  # noqa: E402
from locust.log import setup_logging  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from bench.loadgen import Answer, Expect  # noqa: E402
from bench.fixtures import forms, post_form  # noqa: E402

CONFIG = json.loads(os.environ.get("BENCH_APPLICANTS", "{}"))
TITLES = {int(number): title for number, title in CONFIG.get("titles", {}).items()}
THINK_S = CONFIG.get("think_s", [0.5, 1.5])
MAILBOX = "/demo/mailbox"
NUMBERS = itertools.count()
FINISHED: list[int] = []
PROBLEMS: list[str] = []


class Problem(Exception):
    """What went wrong for one applicant (it stops there)."""


class Applicant(HttpUser):
    wait_time = constant(0)  # the think time is taken inside the flow, before each form is sent

    def on_start(self):
        self.number = next(NUMBERS)
        self.email = f"applicant-{self.number}@{CONFIG['run']}.flow.bench.example"
        self.client.headers["X-Forwarded-For"] = f"10.77.{self.number // 250}.{self.number % 250 + 1}"
        self.company = CONFIG["companies"][self.number % len(CONFIG["companies"])]
        self.letters = "".join("abcdefghijklmnopqrstuvwxyz"[int(digit)] for digit in str(self.number))

    @task
    def apply(self):
        try:
            self.flow()
            FINISHED.append(self.number)
        except Problem as problem:
            PROBLEMS.append(f"applicant {self.number}: {problem}")
        except Exception as error:  # noqa: BLE001 - counted as an error of this applicant
            PROBLEMS.append(f"applicant {self.number}: {type(error).__name__}: {error}")
        raise StopUser()

    # -- one request ------------------------------------------------------------------------

    def request(self, method: str, path: str, expect: Expect, name: str | None = None, **kwargs) -> Answer:
        with self.client.request(method, path, name=name or f"{method} {path}", allow_redirects=False,
                                 catch_response=True, **kwargs) as response:
            answer = Answer(response.status_code, response.headers, response.text)
            if problem := expect.problem(answer):
                response.failure(problem)
                raise Problem(f"{method} {path}: {problem}")
            response.success()
        return answer

    def page(self, path: str, number: int, name: str | None = None) -> Answer:
        return self.request("GET", path, Expect(heading=TITLES[number]), name=name)

    def think(self):
        gevent.sleep(random.uniform(*THINK_S))

    def send(self, page: Answer, action: str, typed: dict, then: str, name: str | None = None) -> Answer:
        """Think, then post the form of ``page`` that posts to ``action`` with what was typed;
        the answer must be a 303 to ``then``."""
        form = post_form(page.text, action)
        self.think()
        answer = self.request("POST", action, Expect(status=303), name=name, data={**form["fields"], **typed})
        location = urlsplit(answer.headers.get("Location") or "").path
        if location != then:
            raise Problem(f"POST {action}: 303 to {location!r}, expected {then!r}")
        return answer

    # -- the flow ---------------------------------------------------------------------------

    def flow(self):
        company = self.company
        page = self.page("/stap/1", 1)
        self.send(page, "/stap/1", {"email": self.email}, "/stap/1/verstuurd")
        self.request("GET", "/stap/1/verstuurd", Expect(status=200, text=self.email))
        self.think()  # to the mailbox
        link = self.link_from_mailbox()
        self.request("GET", link, Expect(status=303, location="/bevestig"), name="GET /bevestig/<token>")
        page = self.request("GET", "/bevestig", Expect(status=200, text=self.email))
        self.send(page, "/bevestig", {}, "/stap/2")

        page = self.page("/stap/2", 2)
        self.send(page, "/stap/2", {"kvk_number": company["kvk"], "agb_code": company["agb"]}, "/stap/3")
        page = self.page("/stap/3", 3)
        self.send(page, "/stap/3", {"data_correct": "yes"}, "/stap/4")
        self.page("/stap/4", 4)
        self.think()  # choosing the signatory (without JavaScript: a GET)
        page = self.page(f"/stap/4?signatory={company['officer']}", 4, name="GET /stap/4?signatory=<officer>")
        self.send(page, "/stap/4", {"birth_date": "09-03-1971", "email": f"tekenbevoegde-{self.number}@example.nl",
                                    "mobile": "06-12345678"}, "/stap/5")
        page = self.page("/stap/5", 5)
        self.send(page, "/stap/5", {"initials": "J.", "prefix": "", "surname": f"Jansen-{self.letters}",
                                    "birth_date": "01-05-1980", "email": f"hoofdcontact-{self.number}@example.nl",
                                    "mobile": "06-87654321", "employed": "y"}, "/stap/6")
        page = self.page("/stap/6", 6)
        if any(form["action"] == "/stap/6/aanvullen" for form in forms(page.text)):
            self.send(page, "/stap/6/aanvullen", {}, "/stap/6")
            page = self.page("/stap/6", 6)
        self.send(page, "/stap/6", {}, "/stap/7")
        page = self.page("/stap/7", 7)
        self.send(page, "/stap/7", {}, "/stap/8")
        page = self.page("/stap/8", 8)
        self.send(page, "/stap/8", {"services_ok": "y"}, "/stap/9")
        page = self.page("/stap/9", 9)
        self.send(page, "/stap/9", {"declaration": "y"}, "/stap/10")
        self.page("/stap/10", 10)

    def link_from_mailbox(self) -> str:
        """The path of the newest link mailed to this applicant, read in the demo mailbox."""
        answer = self.request("GET", MAILBOX, Expect(status=200), name=f"GET {MAILBOX} (demo tool)")
        for article in answer.text.split('<article class="mail">')[1:]:
            if f": {self.email} " in article:
                match = re.search(r'href="([^"]*/bevestig/[^"]+)"', article)
                if match:
                    return urlsplit(match.group(1)).path
        raise Problem(f"no link to {self.email} in {MAILBOX}")


def main() -> int:
    setup_logging("WARNING")
    users = int(CONFIG["users"])
    env = Environment(user_classes=[Applicant], host=CONFIG["host"])
    runner = env.create_local_runner()
    started = time.monotonic()
    runner.start(users, spawn_rate=users)
    deadline = started + float(CONFIG.get("timeout_s", 240))
    while len(FINISHED) + len(PROBLEMS) < users and time.monotonic() < deadline:
        gevent.sleep(0.2)
    seconds = time.monotonic() - started
    runner.quit()
    total = env.stats.total
    by_name = sorted(env.stats.entries.values(), key=lambda entry: entry.get_response_time_percentile(0.99),
                     reverse=True)
    product = [entry for entry in by_name if "(demo tool)" not in entry.name]
    result = {
        "users": users,
        "finished": len(FINISHED),
        "problems": PROBLEMS,
        "timed_out": len(FINISHED) + len(PROBLEMS) < users,
        "seconds": seconds,
        "requests": total.num_requests,
        "failures": total.num_failures,
        "p50_ms": total.get_response_time_percentile(0.5),
        "p99_ms": total.get_response_time_percentile(0.99),
        "max_ms": total.max_response_time,
        "slowest": [[entry.name, entry.get_response_time_percentile(0.99), entry.num_requests]
                    for entry in product[:3]],
        "demo_tool": [[entry.name, entry.get_response_time_percentile(0.99), entry.num_requests]
                      for entry in by_name if "(demo tool)" in entry.name],
        "errors": [[str(error.name), str(error.error), error.occurrences] for error in env.stats.errors.values()],
    }
    print("bench-applicants " + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
