"""The deployment emulator end to end: real HTTP on 127.0.0.1, both formats, faults."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from reactivex.scheduler.eventloop import AsyncIOScheduler

from rxsse import ReconnectPolicy, collect, from_url
from rxsse.domain.deploy import RANKED_STATES, DeploymentState
from rxsse.emulator.deploy import plan_deployment
from rxsse.operators.deploy import deployment_progress, deployment_state
from rxsse.sources.ndjson import SkippedLine, from_ndjson_url

FAST = ReconnectPolicy(default_delay=0.005, jitter=0, max_attempts=20)


def vercel_source(url: str, skipped: list[SkippedLine] | None = None) -> Any:
    def resume(value: Any) -> dict[str, Any] | None:
        return {"since": value["created"]} if "created" in value else None

    return from_ndjson_url(
        url,
        reconnect=FAST,
        event_id=lambda value: (value.get("payload") or {}).get("id"),
        resume=resume,
        on_skip=(skipped.append if skipped is not None else None),
    )


def log_texts(state: DeploymentState) -> list[str]:
    return [line.text for line in state.logs]


async def test_sse_deployment_reaches_ready_through_every_phase(emulator: str) -> None:
    states = await collect(from_url(f"{emulator}/deploy/events?speed=0").pipe(deployment_state()))
    final = states[-1]
    assert final.status == "READY"
    assert final.url is not None
    assert final.url.startswith("https://shop-")
    assert final.aliases == ("shop.acme.dev",)
    assert list(final.phases) == list(RANKED_STATES)
    assert final.functions == ("api/checkout", "api/hello", "api/search")
    assert final.anomalies == ()
    assert final.duplicates == 0
    progress = [s.progress for s in states]
    assert progress == sorted(progress)
    assert progress[-1] == 100
    assert any(line.level == "warning" for line in final.logs)
    plan = plan_deployment(7)  # the fixture's seed: event times follow the plan
    assert final.finished_at is not None
    assert final.started_at is not None
    ready_offset = next(p.offset for p in plan if p.kind == "ready")
    assert final.finished_at - final.started_at == pytest.approx(ready_offset)


async def test_sse_reconnect_replaying_events_applies_them_once(emulator: str) -> None:
    clean = await collect(from_url(f"{emulator}/deploy/events?speed=0").pipe(deployment_state()))
    faulty = from_url(
        f"{emulator}/deploy/events?speed=0&drop_after=4&replay=2", reconnect=FAST
    ).pipe(deployment_state())
    states = await collect(faulty)
    final = states[-1]
    assert final.status == "READY"
    assert final.duplicates > 0
    assert log_texts(final) == log_texts(clean[-1])
    assert final.functions == clean[-1].functions
    assert final.anomalies == ()


async def test_sse_out_of_order_state_events_are_ignored(emulator: str) -> None:
    source = from_url(f"{emulator}/deploy/events?speed=0&out_of_order=1")
    final = (await collect(source.pipe(deployment_state())))[-1]
    assert final.status == "READY"
    assert sorted(a.reason for a in final.anomalies) == [
        "BUILDING after DEPLOYING: regression ignored",
        "INITIALIZING after ANALYZING: regression ignored",
    ]
    assert "INITIALIZING" not in final.phases


async def test_sse_build_error(emulator: str) -> None:
    source = from_url(f"{emulator}/deploy/events?speed=0&outcome=error")
    bars = await collect(source.pipe(deployment_progress()))
    final = bars[-1]
    assert (final.status, final.outcome) == ("ERROR", "failed")
    assert final.error == 'BUILD_FAILED: Command "npm run build" exited with 1'
    assert final.step == "Building"
    assert final.percent == 45


async def test_sse_alias_after_ready_within_the_grace_period(emulator: str) -> None:
    scheduler = AsyncIOScheduler(asyncio.get_running_loop())
    source = from_url(f"{emulator}/deploy/events?speed=0")
    states = await collect(source.pipe(deployment_state(alias_grace=0.3, scheduler=scheduler)))
    assert states[-1].status == "READY"
    assert states[-1].aliases == ("shop.acme.dev", "www.shop.acme.dev")


async def test_sse_stream_paced_by_the_plan(emulator: str) -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    bars = await collect(from_url(f"{emulator}/deploy/events?speed=40").pipe(deployment_progress()))
    elapsed = loop.time() - started
    assert bars[-1].outcome == "ready"
    assert elapsed >= plan_deployment(7)[-2].offset / 40 * 0.9


async def test_ndjson_vercel_stream_with_every_fault(emulator: str) -> None:
    clean_url = f"{emulator}/deploy/ndjson?speed=0"
    clean = (await collect(vercel_source(clean_url).pipe(deployment_state())))[-1]
    skipped: list[SkippedLine] = []
    url = f"{clean_url}&out_of_order=1&drop_after=5&replay=2&garbage=1"
    final = (await collect(vercel_source(url, skipped).pipe(deployment_state())))[-1]
    assert final.status == clean.status == "READY"
    assert final.url == clean.url
    assert final.aliases == ("shop.acme.dev",)
    reasons = [s.reason for s in skipped]
    assert reasons.count("invalid-json") >= 1
    assert reasons.count("duplicate") >= 3  # since= is inclusive, plus replay=2
    assert sorted(a.reason for a in final.anomalies) == [
        "BUILDING after DEPLOYING: regression ignored",
        "INITIALIZING after ANALYZING: regression ignored",
    ]
    assert log_texts(final) == log_texts(clean)
    assert final.step == 'Running "npm run build"'


async def test_ndjson_canceled_and_errored_deployments(emulator: str) -> None:
    base = f"{emulator}/deploy/ndjson?speed=0"
    canceled = (await collect(vercel_source(f"{base}&outcome=canceled").pipe(deployment_state())))[
        -1
    ]
    assert canceled.outcome == "canceled"
    failed = (await collect(vercel_source(f"{base}&outcome=error").pipe(deployment_state())))[-1]
    assert failed.status == "ERROR"
    assert failed.error is not None
    assert failed.error.code == "BUILD_FAILED"
    assert [line.level for line in failed.logs][-3:] == ["error", "error", "error"]


async def test_ndjson_stream_cut_before_the_end_is_disconnected(emulator: str) -> None:
    source = from_ndjson_url(f"{emulator}/deploy/ndjson?speed=0&drop_after=9", reconnect=False)
    states: list[DeploymentState] = []
    failed: asyncio.Future[Exception] = asyncio.get_running_loop().create_future()
    source.pipe(deployment_state()).subscribe(states.append, failed.set_result)
    assert isinstance(await asyncio.wait_for(failed, 10), httpx.TransportError)
    assert states[-1].status == "BUILDING"
    assert states[-1].outcome == "disconnected"
    assert states[-1].error is None


async def test_bad_parameters_and_resume_past_the_end(emulator: str) -> None:
    async with httpx.AsyncClient() as client:
        bad = await client.get(f"{emulator}/deploy/events?outcome=maybe")
        assert bad.status_code == 400
        bad = await client.get(f"{emulator}/deploy/ndjson?speed=-1")
        assert bad.status_code == 400
        done = await client.get(f"{emulator}/deploy/events", headers={"Last-Event-ID": "999"})
        assert done.status_code == 204
        status = await client.get(f"{emulator}/deploy/ndjson?status=503")
        assert status.status_code == 503
