"""Fetch one response per image and API through the cache, after estimating the cost.

The same machinery serves every tagger: Rekognition, Google Cloud Vision, Azure AI Vision
(one call per image, several in flight) and the local CLIP tagger (batches of images).
"""

from __future__ import annotations

import json
import logging
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from botocore.exceptions import ClientError

from images_as_data.autotag import API_OPERATIONS, SERVICE_TITLES
from images_as_data.autotag.backends import Backend, ImageRejected, make_backend
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
    """More calls are needed than the service's max_calls allows."""


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
            "cost_usd": round(needed * price, 6) if settings.billed else 0.0,
            "cost_if_live_usd": round(needed * price, 6),
            "max_calls": settings.max_calls,
            "simulated": settings.simulated,
            "service": settings.service,
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
    service = estimate["service"].iloc[0]
    key = "autotag" if service == "rekognition" else f"autotag.{service}"
    total = estimate["calls_needed"].sum()
    cost = estimate["cost_if_live_usd"].sum()
    if service == "clip":
        billing = "a local model: nothing is billed"
    elif estimate["cost_usd"].sum() > 0 or backend in ("aws", "google", "azure"):
        billing = f"billed by {SERVICE_TITLES[service]}"
    else:
        billing = f"nothing is billed with the {backend} backend"
    return (
        f"autotag estimate ({backend} backend) for {SERVICE_TITLES[service]}: {total} calls needed, ${cost:.2f} "
        f"at the configured prices ({billing}); cap {key}.max_calls = {estimate['max_calls'].iloc[0]}\n"
        + "\n".join(lines)
    )


def _is_current(record: dict[str, Any], settings: FetchSettings, cache: ResponseCache) -> bool:
    """Whether a cached record can be used.

    A stale simulation or local (free) result is computed again; a paid response requested
    otherwise is an error, so that nobody pays twice without deciding to.
    """
    path = cache.path(record["api"], record["sha256"])
    if bool(record.get("simulated")) != settings.simulated:
        kind = "simulated" if record.get("simulated") else "real"
        raise ValueError(
            f"{path} holds a {kind} response but {settings.key}.backend is {settings.backend}"
            f"{' with random weights' if settings.random_weights else ''}; "
            "keep simulated and real responses in different autotag.cache_dir folders"
        )
    wanted = settings.request_parameters(record["api"])
    if settings.simulated:
        return record.get("request") == wanted and record.get("simulation") == settings.simulation_signature()
    if settings.free:
        return record.get("request") == wanted
    if record.get("request") is not None and record["request"] != wanted:
        what = "autotag.detect_labels" if settings.service == "rekognition" else f"{settings.key} request keys"
        raise ValueError(
            f"{path} was requested with {record['request']} but the config now asks for {wanted} "
            f"({what}); point autotag.cache_dir at a new folder to fetch with the new "
            "parameters (it costs a call per image), or restore the old values"
        )
    return True


def _list_jobs(jobs: list[Job]) -> str:
    listed = ", ".join(f"{job.api} {job.image_id} (sha256 {job.sha256[:12]})" for job in jobs[:MAX_LISTED])
    more = f" and {len(jobs) - MAX_LISTED} more" if len(jobs) > MAX_LISTED else ""
    return listed + more


def _prepare(job: Job, settings: FetchSettings):
    image = prepare_image(job.image_id, job.path, job.sha256, settings.image_limits)
    if image.reencoded:
        log.debug("%s re-encoded before sending: %s", job.image_id, image.reason)
    return image


def _store(job: Job, image, response: dict[str, Any], backend: Backend, cache: ResponseCache,
           settings: FetchSettings) -> dict[str, Any]:
    record = make_record(
        job.api, job.image_id, job.sha256, response,
        region=backend.region, backend=backend.name, request=settings.request_parameters(job.api),
        sent=image.description(), simulation=settings.simulation_signature(), endpoint=getattr(backend, "endpoint", None),
    )
    cache.store(record)
    return record


def _fetch_one(job: Job, backend: Backend, cache: ResponseCache, settings: FetchSettings) -> dict[str, Any]:
    image = _prepare(job, settings)
    response = backend.call(job.api, image, settings.request_parameters(job.api))
    return _store(job, image, response, backend, cache, settings)


def _rejection(error: BaseException) -> str | None:
    """Why the service refused one image, or None when the error is not about the image."""
    if isinstance(error, ImageRejected):
        return str(error)
    if isinstance(error, ClientError) and error.response["Error"]["Code"] in IMAGE_ERROR_CODES:
        return f"{error.response['Error']['Code']}: {error.response['Error'].get('Message', '')}"
    return None


def _raise_rejected(rejected: list[tuple[Job, str]]) -> None:
    if rejected:
        listed = "; ".join(f"{job.image_id} {job.api}: {reason}" for job, reason in rejected[:MAX_LISTED])
        raise RejectedImages(
            f"the service rejected {len(rejected)} image(s) (the other responses are cached): {listed}. "
            "Check these files or exclude them from the sample"
        )


def _score_batches(missing: list[Job], backend, cache: ResponseCache, settings: FetchSettings) -> dict[Job, dict]:
    """A local model scores images a batch at a time; each batch is cached as soon as it is scored."""
    fetched: dict[Job, dict] = {}
    rejected: list[tuple[Job, str]] = []
    for start in range(0, len(missing), backend.batch_size):
        batch = missing[start:start + backend.batch_size]
        images = []
        for job in batch:
            try:
                images.append((job, _prepare(job, settings)))
            except (OSError, ValueError) as error:  # unreadable or changed files: named at the end
                rejected.append((job, str(error)))
        if not images:
            continue
        try:
            responses = backend.call_batch(batch[0].api, [image for _, image in images], settings.request_parameters(batch[0].api))
        except Exception as error:
            log.error("stopping after %d new responses (each is cached; a rerun resumes from here): %s", len(fetched), error)
            raise
        for (job, image), response in zip(images, responses, strict=True):
            fetched[job] = _store(job, image, response, backend, cache, settings)
        log.info("scored %d of %d images", len(fetched), len(missing))
    _raise_rejected(rejected)
    return fetched


def _call_missing(missing: list[Job], backend: Backend, cache: ResponseCache, settings: FetchSettings) -> dict[Job, dict]:
    """Make the calls, at most max_in_flight at a time; each response is cached as it arrives."""
    if getattr(backend, "batch_size", None):
        return _score_batches(missing, backend, cache, settings)
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
            elif _rejection(error) is not None:
                rejected.append((job, _rejection(error)))
            else:
                for other in futures:
                    other.cancel()
                log.error(
                    "stopping after %d new responses (each is cached; a rerun resumes from here): %s",
                    len(fetched), error,
                )
                raise error
    _raise_rejected(rejected)
    return fetched


def cached_records(jobs: list[Job], settings: FetchSettings, cache: ResponseCache) -> tuple[dict[Job, dict], list[Job]]:
    """The usable cached record of each job, and the jobs that still need a call."""
    records: dict[Job, dict] = {}
    missing = []
    for job in jobs:
        record = cache.load(job.api, job.sha256)
        if record is None or not _is_current(record, settings, cache):
            missing.append(job)
        else:
            records[job] = record
    return records, missing


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
    records, missing = cached_records(jobs, settings, cache)
    estimate = estimate_calls(jobs, missing, settings)
    if estimate_path is not None:
        write_csv(estimate, estimate_path)
    log.info(describe_estimate(estimate))
    if missing and settings.backend == "replay":
        raise MissingCachedResponses(
            f"replay backend: {len(missing)} {SERVICE_TITLES[settings.service]} response(s) are not in the cache "
            f"{cache.root}: {_list_jobs(missing)}. Fetch them with {settings.key}.backend: {settings.live_backend}, "
            "or copy the cache folder of whoever fetched them"
        )
    if len(missing) > settings.max_calls:
        raise CallCapExceeded(
            f"{len(missing)} calls are needed but {settings.key}.max_calls is {settings.max_calls}: "
            f"{describe_estimate(estimate)}\nRaise {settings.key}.max_calls, or lower autotag.n_most_shared, to go on"
        )
    fetched = _call_missing(missing, backend, cache, settings)
    records.update(fetched)
    reencoded = sorted({job.image_id for job, record in fetched.items() if (record.get("sent") or {}).get("reencoded")})
    if reencoded:
        log.info("%d images were re-encoded to fit the API's limits (reasons in requests.csv), e.g. %s",
                 len(reencoded), ", ".join(reencoded[:5]))
    log.info("autotag %s: %d responses from the cache, %d new calls", settings.service, len(jobs) - len(missing), len(missing))
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


def run_estimate(sample_csv: str | Path, config: dict[str, Any], estimate_csv: str | Path) -> pd.DataFrame:
    """The estimate rule: calls and cost the fetch will need, from the cache, before any call.

    A rule of its own, so that the estimate stays in place when the fetch stops at
    autotag.max_calls (Snakemake deletes a failed job's outputs).
    """
    settings = fetch_settings(config)
    jobs = plan_jobs(read_sample(sample_csv), settings.apis)
    _, missing = cached_records(jobs, settings, ResponseCache(settings.cache_root))
    estimate = estimate_calls(jobs, missing, settings)
    write_csv(estimate, estimate_csv)
    log.info(describe_estimate(estimate))
    needed = int(estimate["calls_needed"].sum())
    if needed > settings.max_calls:
        log.warning(
            "the fetch step will stop before calling: %d calls needed, autotag.max_calls is %d; "
            "raise autotag.max_calls (or lower autotag.n_most_shared) to go on", needed, settings.max_calls,
        )
    print(estimate.to_string(index=False))
    return estimate


def run_fetch(
    sample_csv: str | Path,
    config: dict[str, Any],
    estimate_csv: str | Path | None,
    records_jsonl: str | Path,
    backend: Backend | None = None,
    service: str = "rekognition",
    live=None,
) -> FetchReport:
    """The fetch rule of one service: estimate, call what is not cached, write the sample's records.

    `backend` replaces the one the config names (tests pass a Stubber-wrapped client); `live`
    builds the live backend of a service other than Rekognition (see backends.make_backend).
    """
    settings = fetch_settings(config, service)
    sample = read_sample(sample_csv)
    if backend is None:
        truth = None
        if settings.backend == "simulated":
            section = config.get("autotag", {})
            truth = scene_truth_from_sample(
                sample,
                section.get("label_comparison", {}).get("manual_column", "protest"),
                section.get("celebrity_comparison", {}).get("manual_column", "legend"),
            )
        backend = make_backend(settings, truth, settings.simulated_celebrity, live)
    report = fetch_responses(sample, settings, backend, ResponseCache(settings.cache_root), estimate_csv)
    write_records(report.records, records_jsonl)
    return report
