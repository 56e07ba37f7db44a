"""Fetch one response per image and API through the cache, after estimating the cost."""

from __future__ import annotations

import json
import logging
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from botocore.exceptions import ClientError

from images_as_data.autotag import API_OPERATIONS
from images_as_data.autotag.backends import Backend, make_backend
from images_as_data.autotag.cache import ResponseCache, make_record
from images_as_data.autotag.images import prepare_image
from images_as_data.autotag.settings import FetchSettings, fetch_settings
from images_as_data.autotag.simulated import scene_truth_from_sample
from images_as_data.common.atomic import write_csv, write_text

log = logging.getLogger(__name__)

# Errors about one image: the others are still fetched, then the step stops naming these.
IMAGE_ERROR_CODES = {"InvalidImageFormatException", "ImageTooLargeException", "InvalidParameterException"}
MAX_LISTED = 20


class CallCapExceeded(RuntimeError):
    """More calls are needed than autotag.max_calls allows."""


class MissingCachedResponses(RuntimeError):
    """The replay backend lacks responses."""


class RejectedImages(RuntimeError):
    """The service refused some images."""


@dataclass(frozen=True)
class Job:
    """One call: an API for one image."""

    api: str
    image_id: str
    path: str
    sha256: str


@dataclass
class FetchReport:
    """What a fetch did: the records in job order and how many calls it made."""

    records: list[dict[str, Any]]
    calls_made: int
    from_cache: int
    estimate: pd.DataFrame = field(repr=False)


def plan_jobs(sample: pd.DataFrame, apis: tuple[str, ...]) -> list[Job]:
    """One job per API and distinct image (by SHA-256), in sample order."""
    for column in ("image_id", "path", "sha256"):
        if column not in sample.columns:
            raise ValueError(f"the autotag sample lacks the column {column}; rerun the autotag_sample rule")
    unique = sample.drop_duplicates("sha256")
    return [
        Job(api, row.image_id, row.path, row.sha256)
        for api in apis
        for row in unique.itertuples(index=False)
    ]


def estimate_calls(jobs: list[Job], missing: list[Job], settings: FetchSettings) -> pd.DataFrame:
    """Per API: images, usable cached responses, calls still needed and their cost."""
    rows = []
    for api in settings.apis:
        n_images = sum(job.api == api for job in jobs)
        needed = sum(job.api == api for job in missing)
        cached = n_images - needed
        price = settings.price_per_call[api]
        rows.append({
            "api": api,
            "operation": API_OPERATIONS[api],
            "backend": settings.backend,
            "images": n_images,
            "cached": cached,
            "calls_needed": needed,
            "price_per_call_usd": price,
            "cost_usd": round(needed * price, 6) if settings.backend == "aws" else 0.0,
            "cost_if_live_usd": round(needed * price, 6),
            "max_calls": settings.max_calls,
            "simulated": settings.simulated,
        })
    return pd.DataFrame(rows)


def describe_estimate(estimate: pd.DataFrame) -> str:
    """One readable paragraph for the log."""
    lines = [
        f"  {row.operation}: {row.images} images, {row.cached} cached, {row.calls_needed} calls needed "
        f"(${row.cost_if_live_usd:.2f} at ${row.price_per_call_usd} per call)"
        for row in estimate.itertuples(index=False)
    ]
    backend = estimate["backend"].iloc[0]
    total = estimate["calls_needed"].sum()
    cost = estimate["cost_if_live_usd"].sum()
    billing = "billed by AWS" if backend == "aws" else f"nothing is billed with the {backend} backend"
    return (
        f"autotag estimate ({backend} backend): {total} calls needed, ${cost:.2f} at the configured prices "
        f"({billing}); cap autotag.max_calls = {estimate['max_calls'].iloc[0]}\n" + "\n".join(lines)
    )


def _is_current(record: dict[str, Any], settings: FetchSettings, cache: ResponseCache) -> bool:
    """Whether a cached record can be used; a stale simulation is redone, a real mismatch is an error."""
    path = cache.path(record["api"], record["sha256"])
    if bool(record.get("simulated")) != settings.simulated:
        kind = "simulated" if record.get("simulated") else "real"
        raise ValueError(
            f"{path} holds a {kind} response but autotag.backend is {settings.backend}; "
            "keep simulated and real responses in different autotag.cache_dir folders"
        )
    wanted = settings.request_parameters(record["api"])
    if settings.simulated:
        return record.get("request") == wanted and record.get("simulation") == settings.simulation_signature()
    if record.get("request") is not None and record["request"] != wanted:
        raise ValueError(
            f"{path} was requested with {record['request']} but the config now asks for {wanted} "
            "(autotag.detect_labels); point autotag.cache_dir at a new folder to fetch with the new "
            "parameters (it costs a call per image), or restore the old values"
        )
    return True


def _list_jobs(jobs: list[Job]) -> str:
    listed = ", ".join(f"{job.api} {job.image_id} (sha256 {job.sha256[:12]})" for job in jobs[:MAX_LISTED])
    more = f" and {len(jobs) - MAX_LISTED} more" if len(jobs) > MAX_LISTED else ""
    return listed + more


def _fetch_one(job: Job, backend: Backend, cache: ResponseCache, settings: FetchSettings) -> dict[str, Any]:
    image = prepare_image(job.image_id, job.path, job.sha256, settings.image_limits)
    if image.reencoded:
        log.debug("%s re-encoded before sending: %s", job.image_id, image.reason)
    parameters = settings.request_parameters(job.api)
    response = backend.call(job.api, image, parameters)
    record = make_record(
        job.api, job.image_id, job.sha256, response,
        region=backend.region, backend=backend.name, request=parameters, sent=image.description(),
        simulation=settings.simulation_signature(),
    )
    cache.store(record)
    return record


def _call_missing(missing: list[Job], backend: Backend, cache: ResponseCache, settings: FetchSettings) -> dict[Job, dict]:
    """Make the calls, at most max_in_flight at a time; each response is cached as it arrives."""
    fetched: dict[Job, dict] = {}
    rejected: list[tuple[Job, str]] = []
    with ThreadPoolExecutor(max_workers=settings.client.max_in_flight, thread_name_prefix="autotag") as pool:
        futures: dict[Future, Job] = {pool.submit(_fetch_one, job, backend, cache, settings): job for job in missing}
        for future in as_completed(futures):
            job = futures[future]
            error = future.exception()
            if error is None:
                fetched[job] = future.result()
                if len(fetched) % 50 == 0:
                    log.info("fetched %d of %d responses", len(fetched), len(missing))
            elif isinstance(error, ClientError) and error.response["Error"]["Code"] in IMAGE_ERROR_CODES:
                rejected.append((job, f"{error.response['Error']['Code']}: {error.response['Error'].get('Message', '')}"))
            else:
                for other in futures:
                    other.cancel()
                log.error(
                    "stopping after %d new responses (each is cached; a rerun resumes from here): %s",
                    len(fetched), error,
                )
                raise error
    if rejected:
        listed = "; ".join(f"{job.image_id} {job.api}: {reason}" for job, reason in rejected[:MAX_LISTED])
        raise RejectedImages(
            f"the service rejected {len(rejected)} image(s) (the other responses are cached): {listed}. "
            "Check these files or exclude them from the sample"
        )
    return fetched


def fetch_responses(
    sample: pd.DataFrame,
    settings: FetchSettings,
    backend: Backend,
    cache: ResponseCache,
    estimate_path: str | Path | None = None,
) -> FetchReport:
    """Return one record per job, calling the backend only for images missing from the cache.

    Before any call the estimate is logged (and written to `estimate_path`); the step stops
    if the replay backend lacks responses or the calls needed exceed `settings.max_calls`.
    """
    jobs = plan_jobs(sample, settings.apis)
    records: dict[Job, dict] = {}
    missing = []
    for job in jobs:
        record = cache.load(job.api, job.sha256)
        if record is None or not _is_current(record, settings, cache):
            missing.append(job)
        else:
            records[job] = record
    estimate = estimate_calls(jobs, missing, settings)
    if estimate_path is not None:
        write_csv(estimate, estimate_path)
    log.info(describe_estimate(estimate))
    if missing and settings.backend == "replay":
        raise MissingCachedResponses(
            f"replay backend: {len(missing)} response(s) are not in the cache {cache.root}: {_list_jobs(missing)}. "
            "Fetch them with autotag.backend: aws, or copy the cache folder of whoever fetched them"
        )
    if len(missing) > settings.max_calls:
        raise CallCapExceeded(
            f"{len(missing)} calls are needed but autotag.max_calls is {settings.max_calls}: "
            f"{describe_estimate(estimate)}\nRaise autotag.max_calls, or lower autotag.n_most_shared, to go on"
        )
    fetched = _call_missing(missing, backend, cache, settings)
    records.update(fetched)
    reencoded = sorted({job.image_id for job, record in fetched.items() if (record.get("sent") or {}).get("reencoded")})
    if reencoded:
        log.info("%d images were re-encoded to fit the API's limits (reasons in requests.csv), e.g. %s",
                 len(reencoded), ", ".join(reencoded[:5]))
    log.info("autotag: %d responses from the cache, %d new calls", len(jobs) - len(missing), len(missing))
    ordered = [dict(records[job], image_id=job.image_id) for job in jobs]
    return FetchReport(ordered, calls_made=len(missing), from_cache=len(jobs) - len(missing), estimate=estimate)


def write_records(records: list[dict[str, Any]], path: str | Path) -> None:
    """The sample's records as JSON lines, the input of the tidy step."""
    write_text("".join(json.dumps(record, sort_keys=True) + "\n" for record in records), path)


def read_records(path: str | Path) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def read_sample(path: str | Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype={"image_id": str, "cluster_id": str, "path": str, "sha256": str})


def run_fetch(
    sample_csv: str | Path,
    config: dict[str, Any],
    estimate_csv: str | Path,
    records_jsonl: str | Path,
    backend: Backend | None = None,
) -> FetchReport:
    """The fetch rule: estimate, call what is not cached, write the sample's records.

    `backend` replaces the one the config names (tests pass a Stubber-wrapped client).
    """
    settings = fetch_settings(config)
    sample = read_sample(sample_csv)
    if backend is None:
        truth = None
        if settings.simulated:
            section = config.get("autotag", {})
            truth = scene_truth_from_sample(
                sample,
                section.get("label_comparison", {}).get("manual_column", "protest"),
                section.get("celebrity_comparison", {}).get("manual_column", "legend"),
            )
        backend = make_backend(settings, truth, settings.simulated_celebrity)
    report = fetch_responses(sample, settings, backend, ResponseCache(settings.cache_root), estimate_csv)
    write_records(report.records, records_jsonl)
    return report
