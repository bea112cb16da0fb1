"""Name -> builder registries, so run configs stay plain JSON and bad names fail early."""

from __future__ import annotations

from typing import Any, Callable, Iterable


class ConfigError(ValueError):
    """A bad parameter: the message names the parameter and what is allowed."""


def check_choice(param: str, value: Any, allowed: Iterable[Any]) -> Any:
    """Return ``value`` if it is one of ``allowed``, else raise a ConfigError naming both."""
    allowed = list(allowed)
    if value not in allowed:
        shown = ", ".join(repr(a) for a in allowed)
        raise ConfigError(f"{param}={value!r} is not allowed; choose one of: {shown}")
    return value


class Registry:
    """A named collection of builders (models, losses, batch transforms, hooks)."""

    def __init__(self, kind: str):
        self.kind = kind
        self._builders: dict[str, Callable[..., Any]] = {}
        self._meta: dict[str, dict[str, Any]] = {}

    def register(self, name: str, **meta: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        def deco(fn: Callable[..., Any]) -> Callable[..., Any]:
            if name in self._builders:
                raise ValueError(f"{self.kind} {name!r} is registered twice")
            self._builders[name] = fn
            self._meta[name] = meta
            return fn

        return deco

    def names(self) -> list[str]:
        return list(self._builders)

    def __contains__(self, name: str) -> bool:
        return name in self._builders

    def check(self, name: str, param: str | None = None) -> str:
        return check_choice(param or self.kind, name, self._builders)

    def meta(self, name: str) -> dict[str, Any]:
        self.check(name)
        return self._meta[name]

    def get(self, name: str) -> Callable[..., Any]:
        self.check(name)
        return self._builders[name]

    def build(self, name: str, **kwargs: Any) -> Any:
        return self.get(name)(**kwargs)

    def build_spec(self, spec: str | dict[str, Any]) -> Any:
        """Build from ``"name"`` or ``{"name": ..., **kwargs}`` (the form run configs use)."""
        if isinstance(spec, str):
            return self.build(spec)
        spec = dict(spec)
        if "name" not in spec:
            raise ConfigError(f"a {self.kind} spec needs a 'name'; got {spec!r}")
        name = spec.pop("name")
        return self.build(name, **spec)
