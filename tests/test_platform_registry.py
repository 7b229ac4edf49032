"""Platforms are plugins: a third-party one, installed as its own distribution with an entry
point under ``chathost.platforms``, is a platform like the built-in ones. It is offered by
``--platform``, accepted in a plan, listed in the schema, its tokens are checked and masked,
and ``chathost run`` builds its adapter with its factory, without a line changed in the core,
the app, the runner, the CLI or the settings."""

from __future__ import annotations

import json
import sys
import textwrap
from importlib import metadata
from pathlib import Path

import pytest

from bot.cli import main
from bot.core.errors import ExitCode
from bot.core.plan import PlanError, parse_plan
from bot.platforms import PlatformPlugin, PlatformPluginError, load_platforms
from bot.settings import Settings

MODULE = "chathost_echo_platform"
PLUGIN_SOURCE = '''
"""A tiny third-party platform: its adapter says what it was built with, then stops the run."""

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.core.errors import UserError
from bot.platforms import PlatformPlugin


class EchoSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ECHO_", extra="ignore")
    token: SecretStr | None = None


class EchoStarted(UserError):
    exit_code = 42


class EchoAdapter:
    platform = "echo"

    def __init__(self, context):
        self.context = context

    @property
    def port(self):
        raise AssertionError("not used: the adapter stops the run as it starts")

    async def start(self, service):
        chats = ",".join(c.id for c in self.context.plan.chats if c.platform == "echo")
        raise EchoStarted(
            f"echo started for {chats} saying {self.context.options.echo_greeting} "
            f"with a token of {len(self.context.platform_settings.token.get_secret_value())}"
        )

    async def stop(self):
        pass


def add_run_options(group):
    group.add_argument("--echo-greeting", default="hello")


PLUGIN = PlatformPlugin(
    name="echo",
    settings_model=EchoSettings,
    build=EchoAdapter,
    secrets=("token",),
    tokens=lambda options: ("ECHO_TOKEN",),
    add_run_options=add_run_options,
)
'''
ECHO_PLAN = """\
chats:
  - id: e1
    title: Echo chat
    platform: echo
    channel: lobby
    hosts: [kate]
    schedule: {start: "2031-01-01 19:00", duration: 1h}
    questions: [{id: Q1, at: 5m, text: Hi}]
"""
TOKEN = "echo-token-0123456789"


def install_distribution(folder: Path, entry_points: str, source: str = PLUGIN_SOURCE) -> Path:
    """What ``pip install chathost-echo`` would leave: a module and its dist-info."""
    (folder / f"{MODULE}.py").write_text(source)
    info = folder / "chathost_echo-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: chathost-echo\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(textwrap.dedent(entry_points))
    return folder


@pytest.fixture
def echo_installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    site = tmp_path / "site"
    site.mkdir()
    install_distribution(site, f"[chathost.platforms]\necho = {MODULE}:PLUGIN\n")
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.delitem(sys.modules, MODULE, raising=False)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setattr(Settings, "model_config", {**Settings.model_config, "env_file": None})
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{work / 'run.db'}")
    monkeypatch.delenv("ECHO_TOKEN", raising=False)
    (work / "echo.yaml").write_text(ECHO_PLAN)
    return work


def test_the_registry_finds_the_built_in_platforms_and_a_third_party_one(
    echo_installed: Path,
) -> None:
    registry = load_platforms()
    assert {"console", "slack", "discord", "echo"} <= set(registry.names)
    assert registry.get("echo").env_prefix == "ECHO_"


def test_a_third_party_platform_is_a_platform_choice_of_run(
    echo_installed: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as done:
        main(["run", "--help"])
    assert done.value.code == 0
    shown = capsys.readouterr().out
    assert "{console,discord,echo,slack,telegram}" in shown and "--echo-greeting" in shown
    with pytest.raises(SystemExit) as done:
        main(["run", "--platform", "irc"])
    assert done.value.code == ExitCode.BAD_SETTINGS
    assert "'echo'" in capsys.readouterr().err


def test_a_third_party_platform_is_accepted_in_a_plan_and_in_the_schema(
    echo_installed: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["validate", "echo.yaml"]) == 0
    assert "OK (1 chats: e1)" in capsys.readouterr().out
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema["$defs"]["Chat"]["properties"]["platform"]["enum"] == [
        "console",
        "discord",
        "echo",
        "slack",
        "telegram",
    ]


def test_a_platform_that_is_not_installed_is_a_plan_error_at_its_place(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(PlanError) as caught:
        parse_plan(ECHO_PLAN, "chats.yaml")
    assert [str(i) for i in caught.value.issues] == [
        'chats.yaml:4:15 chats[0].platform: "echo" is not an installed platform '
        "(use one of: console, discord, slack, telegram)"
    ]
    # The names come from whoever calls the loader: the core knows none of its own.
    assert parse_plan(ECHO_PLAN, platforms={"echo"}).chats[0].platform == "echo"


def test_run_checks_the_plugins_token_then_builds_its_adapter_with_its_factory(
    echo_installed: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", "echo.yaml"]) == ExitCode.BAD_SETTINGS
    assert "cannot start: echo (chats: e1) needs ECHO_TOKEN" in capsys.readouterr().err
    monkeypatch.setenv("ECHO_TOKEN", TOKEN)
    assert main(["run", "echo.yaml", "--echo-greeting", "hi"]) == 42
    err = capsys.readouterr().err
    assert f"echo started for e1 saying hi with a token of {len(TOKEN)}" in err
    assert TOKEN not in err


def test_a_plugins_secrets_are_masked(echo_installed: Path) -> None:
    assert TOKEN in Settings(echo_token=TOKEN).secret_values()


def test_a_broken_plugin_is_one_line_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    site = tmp_path / "site"
    site.mkdir()
    install_distribution(
        site, f"[chathost.platforms]\necho = {MODULE}:PLUGIN\n", source="import nosuchlibrary\n"
    )
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.delitem(sys.modules, MODULE, raising=False)
    assert main(["validate", "x.yaml"]) == ExitCode.BAD_SETTINGS
    err = capsys.readouterr().err.strip()
    assert err.startswith("cannot load the platform plugin 'echo' (chathost_echo_platform:PLUGIN)")
    assert "\n" not in err and "Traceback" not in err


def entry_points_of(*points: tuple[str, str]):  # type: ignore[no-untyped-def]
    def entry_points(group: str) -> list[metadata.EntryPoint]:
        return [metadata.EntryPoint(name, value, group) for name, value in points]

    return entry_points


def test_plugins_that_cannot_be_told_apart_are_refused() -> None:
    console = "bot.adapters.console.plugin:PLUGIN"
    with pytest.raises(PlatformPluginError, match="calls itself 'console'"):
        load_platforms(entry_points_of(("tty", console)))
    with pytest.raises(PlatformPluginError, match=r"not a bot\.platforms\.PlatformPlugin"):
        load_platforms(entry_points_of(("console", "bot.adapters.console.plugin:build")))
    same = load_platforms(entry_points_of(("console", console), ("console", console)))
    assert same.names == ("console",)  # one distribution seen twice is one plugin
    assert isinstance(same.get("console"), PlatformPlugin)


def test_a_missing_token_for_spontaneous_chats_only_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A plan of only an adhoc: section run on Telegram without the webhook's secret named
    "telegram (chats: )"; it names what the platform is run for."""
    (tmp_path / "chats.yaml").write_text("adhoc: {hosts: [kate]}\n")
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:x")
    monkeypatch.delenv("TELEGRAM_WEBHOOK_SECRET", raising=False)
    argv = ["run", str(tmp_path / "chats.yaml"), "--platform", "telegram"]
    assert main([*argv, "--telegram-mode", "webhook"]) == ExitCode.BAD_SETTINGS
    assert (
        "cannot start: telegram (spontaneous chats) needs TELEGRAM_WEBHOOK_SECRET"
        in capsys.readouterr().err
    )
