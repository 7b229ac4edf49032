"""The platforms chathost can run on, each one a plugin found through an entry point.

Why a registry: the app, the runner, the CLI, the settings and the core name no platform. A
platform is one package that declares a :class:`PlatformPlugin` under the entry-point group
``chathost.platforms`` (``pyproject.toml``); the built-in ones (console, Slack, Discord) are
declared the same way as a third-party one, so adding a platform touches none of those files
(README "Adding a platform").
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from pydantic import SecretStr
from pydantic_settings import BaseSettings

from bot.core.clock import Clock
from bot.core.errors import SettingsError
from bot.core.plan import Plan
from bot.core.plan_rules import PlatformRules
from bot.core.plan_types import PLATFORM_ENTRY_POINTS

if TYPE_CHECKING:  # the adapters pull in the whole core; ``chathost validate`` needs none
    from bot.adapters.base import Adapter

log = logging.getLogger("chathost.platforms")

ENTRY_POINT_GROUP = PLATFORM_ENTRY_POINTS


PlatformSettings = TypeVar("PlatformSettings", bound=BaseSettings)


class Settings(Protocol):
    """What the registry needs of chathost's settings (``bot.settings.Settings``, which reads
    this module, not the other way round): each platform's own settings."""

    def platform_settings(self, model: type[PlatformSettings]) -> PlatformSettings: ...


class PlatformPluginError(SettingsError):
    """An installed platform plugin that cannot be used: names it and what is wrong."""


class UnknownPlatform(SettingsError):
    """A platform name no installed plugin declares."""


class MissingTokens(SettingsError):
    """Which environment variables are needed for which chats, in words a user can act on."""


@dataclass(frozen=True)
class BuildContext:
    """Everything a platform's factory may use to build its adapter for ``chathost run``."""

    settings: Settings
    platform_settings: BaseSettings
    plan: Plan  # only this platform's chats
    clock: Clock
    options: argparse.Namespace  # ``chathost run``'s options, the plugin's own included


@dataclass(frozen=True)
class PluginCommand:
    """A subcommand a platform adds to ``chathost`` (Discord's ``discord-invite``)."""

    name: str
    help: str
    run: Callable[[argparse.Namespace], int]
    add_arguments: Callable[[argparse.ArgumentParser], None] = lambda parser: None


def _no_tokens(options: argparse.Namespace) -> tuple[str, ...]:
    return ()


def _no_options(group: argparse._ArgumentGroup) -> None:
    return None


@dataclass(frozen=True)
class PlatformPlugin:
    """One platform: what it is called, how it is configured and started.

    ``settings_model`` is a pydantic-settings model with the platform's own env prefix
    (``SLACK_``); ``secrets`` names its fields whose values are masked in every log line;
    ``tokens`` lists the environment variables it needs before it can start under the given
    ``chathost run`` options (a missing one stops the run at once: exit 2, one line);
    ``add_run_options`` adds the plugin's own ``chathost run`` options (``--slack-mode``);
    ``plan_rules`` are its checks of the plan's chats on it (``chathost validate``).
    """

    name: str
    settings_model: type[BaseSettings]
    build: Callable[[BuildContext], Adapter]
    secrets: tuple[str, ...] = ()
    tokens: Callable[[argparse.Namespace], tuple[str, ...]] = _no_tokens
    add_run_options: Callable[[argparse._ArgumentGroup], None] = _no_options
    commands: tuple[PluginCommand, ...] = ()
    description: str = ""
    plan_rules: PlatformRules = field(default_factory=PlatformRules)

    @property
    def env_prefix(self) -> str:
        return str(self.settings_model.model_config.get("env_prefix", "")).upper()

    def settings_of(self, settings: Settings) -> BaseSettings:
        return settings.platform_settings(self.settings_model)

    def secret_values(self, settings: Settings) -> list[str]:
        """The values of this platform's secrets that are set, for the log mask."""
        own = self.settings_of(settings)
        found = [getattr(own, name, None) for name in self.secrets]
        values = [v.get_secret_value() if isinstance(v, SecretStr) else v for v in found]
        return [str(v) for v in values if v]

    def missing(self, settings: Settings, options: argparse.Namespace) -> list[str]:
        """The variables of ``tokens`` that are unset, by their environment names."""
        own = self.settings_of(settings)
        prefix = self.env_prefix
        return [name for name in self.tokens(options) if not _is_set(own, name, prefix)]


def _is_set(own: BaseSettings, variable: str, prefix: str) -> bool:
    field_name = variable[len(prefix) :] if variable.startswith(prefix) else variable
    value = getattr(own, field_name.lower(), None)
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    return bool(value)


@dataclass(frozen=True)
class PlatformRegistry:
    """The installed platforms by name; built by :func:`load_platforms`."""

    plugins: Mapping[str, PlatformPlugin] = field(default_factory=dict)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(sorted(self.plugins))

    def __iter__(self) -> Iterator[PlatformPlugin]:
        return iter(self.plugins[name] for name in self.names)

    @property
    def plan_rules(self) -> dict[str, PlatformRules]:
        """What a plan is checked against: each platform's name and its rules."""
        return {name: self.plugins[name].plan_rules for name in self.names}

    def __contains__(self, name: object) -> bool:
        return name in self.plugins

    def get(self, name: str) -> PlatformPlugin:
        try:
            return self.plugins[name]
        except KeyError:
            known = ", ".join(self.names) or "none (reinstall chathost: pip install -e .)"
            raise UnknownPlatform(
                f"no platform {name!r} is installed (platforms: {known})"
            ) from None

    def check_tokens(
        self, settings: Settings, plan: Plan, platforms: Sequence[str], options: argparse.Namespace
    ) -> None:
        """Stop before connecting anywhere when a platform the run needs lacks a token."""
        problems = []
        for name in platforms:
            missing = self.get(name).missing(settings, options)
            if missing:
                chats = ", ".join(c.id for c in plan.chats if c.platform == name)
                # An adhoc: section runs a platform with no chat of its own on it.
                what = f"chats: {chats}" if chats else "spontaneous chats"
                problems.append(f"{name} ({what}) needs {', '.join(missing)}")
        if problems:
            raise MissingTokens(
                "cannot start: " + "; ".join(problems) + ". Set them in the environment or .env "
                "(see README), or run only some platforms with --platform."
            )

    def secret_values(self, settings: Settings) -> list[str]:
        return [value for plugin in self for value in plugin.secret_values(settings)]


EntryPoints = Callable[..., Iterable[metadata.EntryPoint]]


def load_platforms(entry_points: EntryPoints = metadata.entry_points) -> PlatformRegistry:
    """Every platform installed under ``chathost.platforms``, built-in and third-party."""
    plugins: dict[str, PlatformPlugin] = {}
    sources: dict[str, str] = {}
    for point in entry_points(group=ENTRY_POINT_GROUP):
        if sources.get(point.name) == point.value:
            continue  # the same distribution seen twice (an editable install's two records)
        plugin = _load(point)
        if plugin.name in plugins:
            raise PlatformPluginError(
                f"two platform plugins are called {plugin.name!r} ({sources[plugin.name]} and "
                f"{point.value}): uninstall one of them"
            )
        plugins[plugin.name], sources[plugin.name] = plugin, point.value
    return PlatformRegistry(plugins)


def _load(point: metadata.EntryPoint) -> PlatformPlugin:
    try:
        plugin: Any = point.load()
    except Exception as exc:
        raise PlatformPluginError(
            f"cannot load the platform plugin {point.name!r} ({point.value}): "
            f"{type(exc).__name__}: {exc}"
        ) from exc
    if not isinstance(plugin, PlatformPlugin):
        raise PlatformPluginError(
            f"the platform plugin {point.name!r} ({point.value}) is a "
            f"{type(plugin).__name__}, not a bot.platforms.PlatformPlugin"
        )
    if plugin.name != point.name:
        raise PlatformPluginError(
            f"the platform plugin {point.value} calls itself {plugin.name!r} but is "
            f"registered as {point.name!r}: the two names must match"
        )
    return plugin
