"""Fuzz the HTTP API while honest callers use it: no input may make the server fail, nor shift an answer.

Starts a real server (2 inference workers) on a temporary store, then, at the same time and for ``--seconds``:
- honest callers analyze and store transcripts with unique ids and texts, and check that every answer is their
  own (its id, its texts) and that what they stored reads back;
- a hostile caller sends bodies built to break things: metadata and text nested up to 100,000 deep, unpaired
  surrogates in every string field, huge strings, wrong types, broken JSON, ids made of dots;
- schemathesis generates valid and invalid requests for every operation of the service's own OpenAPI schema.
Prints the counts (requests, statuses, 5xx, wrong answers) as JSON; exits 1 on any 5xx or wrong answer.

    python scripts/fuzz_api.py --seconds 120 --json bench/fuzz_api.json
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the repository root: tests/support/server.py

from service.keys import KeyStore  # noqa: E402
from tests.support.server import ServerProcess  # noqa: E402

ROUTES = ("/v1/analyze", "/v1/analyze/batch", "/v1/transcripts")


class Tally:
    """Thread-safe counts of what each kind of caller got back."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.statuses: dict[str, Counter[int]] = {"honest": Counter(), "hostile": Counter(), "schemathesis": Counter()}
        self.server_errors: list[str] = []
        self.wrong_answers: list[str] = []

    def record(self, caller: str, status: int, what: str) -> None:
        with self.lock:
            self.statuses[caller][status] += 1
            if status >= 500 or status == 0:  # 0: no answer at all
                self.server_errors.append(f"{caller} {status}: {what}")

    def wrong(self, what: str) -> None:
        with self.lock:
            self.wrong_answers.append(what)


class Nested:
    """A JSON value nested ``levels`` deep, written out by ``dumps`` (json.dumps itself stops at ~1,000 levels)."""

    def __init__(self, levels: int, as_list: bool = False) -> None:
        self.levels, self.as_list = levels, as_list

    def json(self) -> str:
        if self.as_list:
            return "[" * self.levels + '"x"' + "]" * self.levels
        return '{"k":' * self.levels + '"x"' + "}" * self.levels


def dumps(body: object) -> bytes:
    """``json.dumps`` that writes ``Nested`` values in place (unpaired surrogates come out as ``\\udXXX``)."""
    deep: list[Nested] = []

    def placeholder(value: object) -> str:
        assert isinstance(value, Nested)
        deep.append(value)
        return f"@@nested{len(deep) - 1}@@"

    text = json.dumps(body, default=placeholder)
    for index, value in enumerate(deep):
        text = text.replace(f'"@@nested{index}@@"', value.json())
    return text.encode()


def hostile_bodies(rng: random.Random) -> Iterator[tuple[str, bytes]]:
    """Endless (name, raw JSON body) pairs that a careless or malicious client could send."""
    turn = {"speaker": "customer", "text": "退款什么时候到"}
    surrogate = "ab\ud800cd\udfff"
    makers: list[tuple[str, Callable[[], object]]] = [
        ("deep metadata", lambda: {"id": "h", "metadata": Nested(rng.choice([40, 256, 900, 5_000, 100_000])),
                                   "turns": [turn]}),
        ("deep turn metadata", lambda: {"id": "h", "turns": [{**turn, "metadata": Nested(rng.choice([300, 2_000]))}]}),
        ("deep text", lambda: {"id": "h", "turns": [{"speaker": "customer", "text": Nested(3_000, as_list=True)}]}),
        ("surrogate text", lambda: {"id": "h", "turns": [{"speaker": "customer", "text": surrogate}]}),
        ("surrogate id", lambda: {"id": surrogate, "turns": [turn]}),
        ("surrogate speaker", lambda: {"id": "h", "turns": [{"speaker": surrogate, "text": "hi"}]}),
        ("surrogate metadata", lambda: {"id": "h", "metadata": {surrogate: surrogate}, "turns": [turn]}),
        ("surrogate label", lambda: {"id": "h", "turns": [{**turn, "speaker_label": surrogate}]}),
        ("huge english turn", lambda: {"id": "h", "turns": [{"speaker": "customer",
                                                            "text": "the rider is late again. " * 40_001}]}),
        ("huge chinese turn", lambda: {"id": "h", "turns": [{"speaker": "customer", "text": "骑手还没到" * 60_000}]}),
        ("huge id", lambda: {"id": "x" * 500_000, "turns": [turn]}),
        ("many turns", lambda: {"id": "h", "turns": [turn] * 2_000}),
        ("wrong types", lambda: rng.choice([
            {"id": 5, "turns": [{"speaker": 1, "text": 2}]}, {"id": "h", "turns": {"a": 1}}, [], "text", 3.5, None,
            {"id": "h", "turns": [turn], "started_at": "yesterday"}, {"id": None, "turns": [turn]},
            {"id": "h", "turns": [{**turn, "start_ms": -5, "end_ms": 2**70}]}, {"id": "h", "turns": []},
            {"transcripts": "all"}, {"transcripts": [None, 5]}])),
        ("dots and slashes", lambda: {"id": rng.choice([".", "..", "../..", "/", "%2e", "a/../b"]), "turns": [turn]}),
        ("numeric id", lambda: {"id": rng.choice([1e308, -0.0, 10**30]), "turns": [turn]}),
    ]
    raw: list[tuple[str, Callable[[], bytes]]] = [
        ("open brackets", lambda: b"[" * 100_000),
        ("broken json", lambda: b'{"id": "h", "turns": [{"speaker": "customer", "text": "\xff\xfe'),
        ("nan", lambda: b'{"id": NaN, "turns": [{"speaker": "customer", "text": Infinity}]}'),
    ]
    while True:
        if rng.random() < 0.15:
            name, make_raw = rng.choice(raw)
            yield name, make_raw()
            continue
        name, make = rng.choice(makers)
        body = make()
        if rng.random() < 0.3:
            body = {"transcripts": [body, {"id": "ok", "turns": [turn]}]}
        yield name, dumps(body)


def honest_caller(url: str, key: str, number: int, tally: Tally, stop: threading.Event) -> None:
    """Analyze and store transcripts of its own; every answer must carry its own id and texts."""
    with httpx.Client(base_url=url, timeout=60, headers={"X-API-Key": key}) as client:
        n = 0
        while not stop.is_set():
            n += 1
            token = f"{number}x{n}"
            transcript = {"id": f"honest-{token}", "turns": [
                {"speaker": "customer", "text": f"订单{token}号的骑手怎么还没到"},
                {"speaker": "agent", "text": f"您好，订单{token}号马上送达"}]}
            storing = n % 3 == 0
            response = client.post("/v1/transcripts" if storing else "/v1/analyze", json=transcript)
            tally.record("honest", response.status_code, f"honest {token}")
            body = response.json()
            analysis = body.get("analysis") if storing else body
            if response.status_code not in (200, 201) or analysis is None or analysis.get("id") != f"honest-{token}":
                tally.wrong(f"{token}: {response.status_code} {str(body)[:200]}")
                continue
            texts = " ".join(u["text"] for u in analysis["utterances"])
            if texts.count(f"订单{token}号") != 2 or texts.count("订单") != 2:
                tally.wrong(f"{token}: someone else's texts: {texts[:200]}")
            if storing:
                back = client.get(response.headers["location"])
                tally.record("honest", back.status_code, f"read back {token}")
                if back.status_code != 200 or back.json()["id"] != f"honest-{token}":
                    tally.wrong(f"{token}: read back {back.status_code}")


def hostile_caller(url: str, keys: list[str], tally: Tally, stop: threading.Event, seed: int) -> None:
    rng = random.Random(seed)
    bodies = hostile_bodies(rng)
    with httpx.Client(base_url=url, timeout=60) as client:
        while not stop.is_set():
            name, body = next(bodies)
            route = "/v1/analyze/batch" if body.startswith(b'{"transcripts"') else rng.choice(ROUTES[::2])
            try:
                response = client.post(route, content=body, headers={"X-API-Key": rng.choice(keys),
                                                                     "Content-Type": "application/json"})
            except httpx.HTTPError as error:  # no (readable) answer at all: a failure, and the fuzzing goes on
                tally.record("hostile", 0, f"{name} -> {route}: {type(error).__name__}: {error}")
                continue
            tally.record("hostile", response.status_code, f"{name} -> {route}: {response.text[:200]}")


def schemathesis_caller(url: str, key: str, examples: int, tally: Tally) -> None:
    """Every operation of the OpenAPI schema, valid and invalid inputs, checked against the schema."""
    import schemathesis
    from hypothesis import HealthCheck, given, settings
    from hypothesis.errors import Unsatisfiable
    from schemathesis import GenerationMode

    schema = schemathesis.openapi.from_url(f"{url}/openapi.json")

    def runner(operation, mode: GenerationMode) -> Callable[[], None]:
        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        def call(case) -> None:
            response = case.call(headers={"X-API-Key": key}, timeout=60)
            excerpt = response.content[:200].decode("utf-8", "replace")  # a workbook answer is binary
            tally.record("schemathesis", response.status_code, f"{operation.label}: {excerpt}")
        return call

    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        for result in schema.get_all_operations():
            operation = result.ok()
            try:
                runner(operation, mode)()
            except Unsatisfiable:  # nothing to make invalid: the operation takes no input
                pass
            except Exception as error:  # noqa: BLE001 - the client could not even send it: counted as a failure
                tally.record("schemathesis", 0, f"{operation.label}: {type(error).__name__}: {error}"[:300])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=120, help="how long the honest and hostile callers run")
    parser.add_argument("--honest", type=int, default=4, help="concurrent honest callers")
    parser.add_argument("--examples", type=int, default=30, help="schemathesis examples per operation and mode")
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--json", type=Path, help="also write the counts to this file")
    args = parser.parse_args()

    tally = Tally()
    stop = threading.Event()
    with tempfile.TemporaryDirectory() as folder:
        keys = KeyStore(Path(folder, "cx.keys.json"))
        _, key = keys.create("honest")
        _, hostile_key = keys.create("hostile")
        _, read_only_key = keys.create("hostile-read-only", read_only=True)
        settings = {"workers": 2, "rate_limit_per_second": 0}
        with ServerProcess(Path(folder, "cx.duckdb"), Path(folder, "server.log"), settings) as server:
            started = time.monotonic()
            threads = [threading.Thread(target=honest_caller, args=(server.url, key, i, tally, stop))
                       for i in range(args.honest)]
            threads.append(threading.Thread(target=hostile_caller, args=(
                server.url, [hostile_key, read_only_key], tally, stop, args.seed)))
            fuzzer = threading.Thread(target=schemathesis_caller, args=(server.url, key, args.examples, tally))
            for thread in [*threads, fuzzer]:
                thread.start()
            time.sleep(args.seconds)
            fuzzer.join()  # schemathesis runs its examples to the end, honest callers alongside
            stop.set()
            for thread in threads:
                thread.join()
            ready = httpx.get(f"{server.url}/readyz", timeout=10).status_code
            seconds = time.monotonic() - started
    report = {
        "seconds": round(seconds, 1), "honest_callers": args.honest, "ready_at_end": ready == 200,
        "requests": {caller: sum(c.values()) for caller, c in tally.statuses.items()},
        "statuses": {caller: dict(sorted(c.items())) for caller, c in tally.statuses.items()},
        "server_errors": len(tally.server_errors), "wrong_answers": len(tally.wrong_answers),
        "examples_of_failures": (tally.server_errors + tally.wrong_answers)[:10],
    }
    text = json.dumps(report, ensure_ascii=False, indent=2)
    print(text)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(text + "\n", encoding="utf-8")
    return 0 if ready == 200 and not tally.server_errors and not tally.wrong_answers else 1


if __name__ == "__main__":
    sys.exit(main())
