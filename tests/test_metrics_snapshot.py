"""PollStats: the daemon's in-memory self-metrics, one record_poll call per poll."""

from __future__ import annotations

import threading

import pytest

from monitor.metrics import AccountRef, PollStats, TotalRow


def two_endpoints() -> PollStats:
    return PollStats([AccountRef("openai", "prod", ("completions", "costs"))], channels=["webhook"])


def test_a_successful_poll_marks_every_endpoint_successful_by_default() -> None:
    stats = two_endpoints()
    stats.record_poll("openai", "prod", duration=1.0, ok=True, finished_at=1234.5)
    view = stats.view()
    assert view.last_success[("openai", "prod", "completions")] == 1234.5
    assert view.last_success[("openai", "prod", "costs")] == 1234.5


def test_only_listed_endpoints_count_as_successful() -> None:
    stats = two_endpoints()
    stats.record_poll(
        "openai",
        "prod",
        duration=1.0,
        ok=False,
        finished_at=99.0,
        endpoints_ok=["costs"],
        endpoint_errors={"completions": {"rate_limited": 2}},
    )
    view = stats.view()
    assert view.last_success[("openai", "prod", "costs")] == 99.0
    assert view.last_success[("openai", "prod", "completions")] == 0.0
    assert view.errors[("openai", "prod", "completions", "rate_limited")] == 2


def test_a_failed_poll_without_listed_endpoints_changes_no_last_success() -> None:
    stats = two_endpoints()
    stats.record_poll("openai", "prod", duration=1.0, ok=True, finished_at=10.0)
    stats.record_poll("openai", "prod", duration=1.0, ok=False, finished_at=20.0, healthy=False)
    view = stats.view()
    assert view.last_success[("openai", "prod", "completions")] == 10.0
    assert view.healthy[("openai", "prod")] is False


def test_errors_and_requests_accumulate_over_polls() -> None:
    stats = two_endpoints()
    for _ in range(3):
        stats.record_poll(
            "openai",
            "prod",
            duration=0.1,
            ok=False,
            finished_at=1.0,
            endpoint_errors={"costs": {"timeout": 1}},
            requests={"costs": 4},
        )
    view = stats.view()
    assert view.errors[("openai", "prod", "costs", "timeout")] == 3
    assert view.requests[("openai", "prod", "costs")] == 12
    assert view.polls[("openai", "prod")] == 3


def test_unknown_endpoints_reasons_and_accounts_are_added() -> None:
    stats = two_endpoints()
    stats.record_poll(
        "anthropic",
        "new",
        duration=0.1,
        ok=False,
        finished_at=1.0,
        endpoint_errors={"messages": {"weird": 1}},
    )
    view = stats.view()
    assert view.errors[("anthropic", "new", "messages", "weird")] == 1
    assert view.errors[("anthropic", "new", "messages", "auth")] == 0
    assert ("anthropic", "new") in view.healthy


def test_data_lag_is_kept_until_a_new_value_is_reported() -> None:
    stats = two_endpoints()
    stats.record_poll("openai", "prod", duration=0.1, ok=True, finished_at=1.0, data_lag=300.0)
    stats.record_poll("openai", "prod", duration=0.1, ok=True, finished_at=2.0)
    assert stats.view().data_lag[("openai", "prod")] == 300.0


def test_alert_outcomes_and_scheduler_jobs_are_counted() -> None:
    stats = PollStats([], channels=["webhook"], jobs=["outbox"])
    stats.record_alert("webhook", "retried")
    stats.record_alert("webhook", "sent")
    stats.record_alert("slack", "failed")
    stats.record_job_error("outbox")
    stats.record_job_missed("poll:prod")
    view = stats.view()
    assert view.alerts[("webhook", "retried")] == 1
    assert view.alerts[("webhook", "failed")] == 0
    assert view.alerts[("slack", "failed")] == 1
    assert view.job_errors == {"outbox": 1}
    assert view.job_missed == {"outbox": 0, "poll:prod": 1}


def test_a_view_does_not_change_after_later_records() -> None:
    stats = two_endpoints()
    view = stats.view()
    stats.record_poll("openai", "prod", duration=0.1, ok=True, finished_at=5.0, requests={"costs": 1})
    assert view.requests[("openai", "prod", "costs")] == 0
    assert view.polls[("openai", "prod")] == 0


def test_concurrent_records_lose_no_update() -> None:
    stats = two_endpoints()

    def work() -> None:
        for _ in range(200):
            stats.record_poll("openai", "prod", duration=0.1, ok=True, finished_at=1.0, requests={"costs": 1})
            stats.record_alert("webhook", "sent")

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    view = stats.view()
    assert view.requests[("openai", "prod", "costs")] == 800
    assert view.alerts[("webhook", "sent")] == 800
    assert view.durations[("openai", "prod")].count == 800


def test_total_row_refuses_token_tuples_of_the_wrong_length() -> None:
    with pytest.raises(ValueError, match="TOKEN_TYPES"):
        TotalRow("openai", "prod", tokens=(1, 2, 3))
