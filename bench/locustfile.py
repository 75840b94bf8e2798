"""Locust users of `make load` (bench/load.py starts the servers and passes the credentials).

Authorities submit an EPOC with a PDF attachment and poll it; the legal team pages and filters
the admin queue. Loopback only; each authority user stops after LOAD_SUBMITS_PER_USER submissions.
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


class LegalTeam(HttpUser):
    weight = 1
    wait_time = between(0.2, 0.5)

    def on_start(self) -> None:
        self.client.cookies.set("sessionid", SESSION)

    @task
    def queue(self) -> None:
        url, name = random.choice([
            ("/admin/requests_app/legalrequest/", "admin queue"),
            (f"/admin/requests_app/legalrequest/?p={random.randint(1, 3)}", "admin queue, page 2-4"),
            ("/admin/requests_app/legalrequest/?status__exact=in_review", "admin queue, status=in_review"),
            ("/admin/requests_app/legalrequest/?emergency__exact=1", "admin queue, emergency"),
        ])
        with self.client.get(url, name=name, catch_response=True, allow_redirects=False) as response:
            if response.status_code != 200:
                response.failure(f"{response.status_code}")
