"""Locust users of `make load` (bench/load.py starts the servers and passes the credentials).

Authorities submit an EPOC with a PDF attachment and poll it (detail and list); the legal team
pages, filters and searches the admin queue (1,000,000 seeded requests). Loopback only; each
authority user stops after LOAD_SUBMITS_PER_USER submissions.
"""

from __future__ import annotations

import json
import os
import random

from locust import HttpUser, between, task
from locust.exception import StopUser

TOKEN = os.environ["LOAD_TOKEN"]
SESSION = os.environ["LOAD_ADMIN_SESSION"]
BODY = json.loads(os.environ["LOAD_BODY"])
with open(os.environ["LOAD_PDF"], "rb") as handle:
    PDF = handle.read()
SUBMITS = int(os.environ.get("LOAD_SUBMITS_PER_USER", "40"))
API = "/api/v1/requests/"
QUEUE = "/admin/requests_app/legalrequest/"
COUNTRIES = ("DE", "FR", "US", "IT", "ES", "NL", "PL", "BE", "MT")


class Authority(HttpUser):
    weight = 3
    wait_time = between(0.05, 0.2)

    def on_start(self) -> None:
        self.client.headers["Authorization"] = f"Bearer {TOKEN}"
        self.mine: list[str] = []

    @task(2)
    def submit(self) -> None:
        if len(self.mine) >= SUBMITS:
            raise StopUser()
        body = {**BODY, "case_reference": f"PN-LOAD-{random.getrandbits(48):x}"}
        with self.client.post(API, json=body, name="POST /api/v1/requests/", catch_response=True) as response:
            if response.status_code != 201:
                response.failure(f"{response.status_code}: {response.text[:200]}")
                return
            reference = response.json()["reference"]
        self.mine.append(reference)
        with self.client.post(f"{API}{reference}/attachments/", files={"file": ("order.pdf", PDF, "application/pdf")},
                              data={"kind": "order"}, name="POST /api/v1/requests/[ref]/attachments/",
                              catch_response=True) as response:
            if response.status_code != 201:
                response.failure(f"{response.status_code}: {response.text[:200]}")

    @task(3)
    def poll(self) -> None:
        if self.mine:
            self.client.get(f"{API}{random.choice(self.mine)}/", name="GET /api/v1/requests/[ref]/")

    @task(1)
    def poll_list(self) -> None:
        if self.mine:
            self.client.get(API, name="GET /api/v1/requests/ (own list)")


class LegalTeam(HttpUser):
    weight = 1
    wait_time = between(0.2, 0.5)

    def on_start(self) -> None:
        self.client.cookies.set("sessionid", SESSION)

    def page(self, url: str, name: str) -> None:
        with self.client.get(url, name=name, catch_response=True, allow_redirects=False) as response:
            if response.status_code != 200:
                response.failure(f"{response.status_code}")
            elif b"result_list" not in response.content and b"changelist" not in response.content:
                response.failure("not the changelist")

    @task(3)
    def queue(self) -> None:
        self.page(QUEUE, "admin queue")

    @task(3)
    def pages(self) -> None:
        self.page(f"{QUEUE}?p={random.randint(2, 50)}", "admin queue, page 2-50")

    @task(4)
    def filters(self) -> None:
        url, name = random.choice([
            (f"{QUEUE}?status__exact=in_review", "admin queue, status=in_review"),
            (f"{QUEUE}?country={random.choice(COUNTRIES)}", "admin queue, country=X"),
            (f"{QUEUE}?emergency__exact=1", "admin queue, emergency"),
            (f"{QUEUE}?overdue=yes", "admin queue, overdue"),
            (f"{QUEUE}?assigned=me", "admin queue, assigned to me"),
            (f"{QUEUE}?lifecycle__exact=preservation", "admin queue, lifecycle=preservation"),
            (f"{QUEUE}?status__exact=in_review&country=DE&p={random.randint(1, 5)}",
             "admin queue, status=in_review & country=DE, page 1-5"),
        ])
        self.page(url, name)

    @task(1)
    def search(self) -> None:
        n = random.randint(1, 1_000_000)
        url, name = random.choice([
            (f"{QUEUE}?q=LRP-2025-{n:07d}", "admin queue, search reference"),
            (f"{QUEUE}?q=user_{n // 10 * 10}", "admin queue, search target"),
        ])
        self.page(url, name)
