"""The providers' directories (projects, API keys, users) read from the simulator into the ledger."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.directory import GONE, Names
from monitor.directory_refresher import REFRESH_SECONDS, DirectoryRefresher
from monitor.providers.anthropic import AnthropicProvider
from monitor.providers.openai import OpenAIProvider
from monitor.simulator import Simulator
from monitor.store import Ledger
from monitor.store.directory import DirectoryStore, read_names

NOW = 1_795_602_600


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with Simulator(seed=5, clock=lambda: NOW) as s:
        yield s


@pytest.fixture
def providers(sim: Simulator) -> Iterator[dict[str, object]]:
    made = {
        "openai-prod": OpenAIProvider(
            account="openai-prod", api_key=sim.openai_key, base_url=sim.openai_base_url, sleep=lambda _: None
        ),
        "anthropic-prod": AnthropicProvider(
            account="anthropic-prod",
            api_key=sim.anthropic_key,
            base_url=sim.anthropic_base_url,
            sleep=lambda _: None,
        ),
    }
    yield made
    for p in made.values():
        p.close()  # type: ignore[attr-defined]


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    with Ledger.open(tmp_path / "spend.db") as opened:
        yield opened


def read(ledger: Ledger, providers: dict[str, object], now: int = NOW) -> Names:
    DirectoryRefresher(providers).refresh(ledger, now)
    return read_names(ledger)


def test_openai_projects_keys_and_users_are_named(
    sim: Simulator, providers: dict[str, object], ledger: Ledger
) -> None:
    names = read(ledger, providers)
    directory = sim.directories["openai"]
    for project in directory.projects.values():
        assert names.project("openai-prod", project.id) == project.name
    for key in directory.keys.values():
        assert names.api_key("openai-prod", key.id) == key.name
        assert names.owner("openai-prod", key.id) == directory.users[key.owner].email
    for user in directory.users.values():
        assert names.user("openai-prod", user.id) == user.email


def test_anthropic_workspaces_keys_and_users_are_named(
    sim: Simulator, providers: dict[str, object], ledger: Ledger
) -> None:
    names = read(ledger, providers)
    directory = sim.directories["anthropic"]
    assert directory.projects, "the simulator lists workspaces besides the default one"
    for workspace in directory.projects.values():
        assert names.project("anthropic-prod", workspace.id) == workspace.name
    for key in directory.keys.values():
        assert names.api_key("anthropic-prod", key.id) == key.name
        assert names.owner("anthropic-prod", key.id) == directory.users[key.owner].email


def test_directory_pages_are_followed(sim: Simulator, providers: dict[str, object], ledger: Ledger) -> None:
    sim.reset_log()
    read(ledger, providers)
    user_pages = [r for r in sim.requests_log if r.path.endswith("/organization/users")]
    assert user_pages and all(r.query.get("limit") == ("100",) for r in user_pages)
    entries = DirectoryStore(ledger).entries()
    assert len([e for e in entries if e.kind == "project"]) == len(sim.directories["openai"].projects) + len(
        sim.directories["anthropic"].projects
    )


def test_no_secret_part_of_a_key_reaches_the_ledger(
    sim: Simulator, providers: dict[str, object], ledger: Ledger, tmp_path: Path
) -> None:
    read(ledger, providers)
    hints = [k.hint for d in sim.directories.values() for k in d.keys.values()]
    assert all(hints)
    ledger.db.conn.execute("PRAGMA wal_checkpoint(FULL)")
    data = (tmp_path / "spend.db").read_bytes()
    assert not [h for h in hints if h.encode() in data]


def test_a_renamed_project_shows_its_new_name_and_keeps_first_seen(
    sim: Simulator, providers: dict[str, object], ledger: Ledger
) -> None:
    project = sim.project_ids("openai")[0]
    assert project is not None
    read(ledger, providers)
    sim.rename("openai", "project", project, "search-v2")
    names = read(ledger, providers, NOW + REFRESH_SECONDS)
    assert names.project("openai-prod", project) == "search-v2"
    seen = {(a, k, i): (f, last) for a, k, i, f, last in DirectoryStore(ledger).seen()}
    assert seen[("openai-prod", "project", project)] == (NOW, NOW + REFRESH_SECONDS)


def test_archived_projects_and_revoked_keys_keep_their_names(
    sim: Simulator, providers: dict[str, object], ledger: Ledger
) -> None:
    project = sim.project_ids("openai")[1]
    assert project is not None
    key = sim.directories["openai"].keys.copy().popitem()[0]
    key_name = sim.directories["openai"].keys[key].name
    anthropic_key = next(iter(sim.directories["anthropic"].keys))
    read(ledger, providers)
    sim.archive_project("openai", project)
    sim.revoke_key("openai", key)
    sim.revoke_key("anthropic", anthropic_key)
    names = read(ledger, providers, NOW + REFRESH_SECONDS)
    assert names.project("openai-prod", project) == sim.directories["openai"].projects[project].name
    archived = names.entry("openai-prod", "project", project)
    assert archived is not None and archived.status == "archived" and archived.ended_at == NOW
    assert names.api_key("openai-prod", key) == key_name
    gone = names.entry("openai-prod", "api_key", key)
    assert gone is not None and gone.status == GONE
    revoked = names.entry("anthropic-prod", "api_key", anthropic_key)
    assert revoked is not None and revoked.status == "archived"


def test_a_directory_answering_403_is_one_line_and_the_rest_is_read(
    sim: Simulator, providers: dict[str, object], ledger: Ledger, caplog: pytest.LogCaptureFixture
) -> None:
    sim.inject("403", path="*/organization/users")
    with caplog.at_level(logging.WARNING):
        names = read(ledger, providers)
    lines = [r.getMessage() for r in caplog.records if "openai-prod" in r.getMessage()]
    assert len(lines) == 1
    assert "names of users not read" in lines[0] and "may not list users" in lines[0]
    assert "usage polling goes on" in lines[0] and "\n" not in lines[0]
    assert sim.openai_key not in lines[0]
    project = sim.project_ids("openai")[0]
    assert project is not None
    assert names.project("openai-prod", project) == sim.directories["openai"].projects[project].name


def test_the_job_reads_early_only_for_ids_the_directory_lacks(
    sim: Simulator, providers: dict[str, object], ledger: Ledger
) -> None:
    refresher = DirectoryRefresher(providers)
    assert sorted(refresher.due(ledger, NOW)) == ["anthropic-prod", "openai-prod"]
    refresher.refresh(ledger, NOW)
    assert refresher.due(ledger, NOW + 3600) == []
    ledger.db.execute(
        "INSERT INTO totals (provider, account, project, api_key, model, service_tier, user, rows) "
        "VALUES ('openai', 'openai-prod', '', 'key_unknown', 'gpt-4.1', 'standard', '', 1)"
    )
    assert refresher.due(ledger, NOW + 3600) == ["openai-prod"]
    refresher.refresh(ledger, NOW + 3600, ["openai-prod"])
    assert refresher.due(ledger, NOW + 7200) == [], "an id no listing has is looked for once"
    assert refresher.due(ledger, NOW + REFRESH_SECONDS) == ["anthropic-prod"]
    assert sorted(refresher.due(ledger, NOW + 3600 + REFRESH_SECONDS)) == ["anthropic-prod", "openai-prod"]
