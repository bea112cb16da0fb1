"""The three profiles every chapter offers, and a helper to pick a chapter's settings.

* ``smoke``: seconds; synthetic data or tiny subsets. Tests and CI run this.
* ``cpu``: real data where we have it, at settings that fit a 2-core CPU
  (MNIST and LIBSVM at the papers' own settings). The book renders from these runs.
* ``paper``: the paper's own settings; needs a GPU (and CIFAR for the CIFAR chapters).
"""

from __future__ import annotations

from typing import Any

from .registry import ConfigError, check_choice

PROFILES = {
    "smoke": "seconds on a CPU: synthetic or tiny data, for tests and CI",
    "cpu": "real data at settings that fit a 2-core CPU (MNIST and LIBSVM at paper settings)",
    "paper": "the paper's own settings: a GPU, and CIFAR where the paper uses it",
}


def check_profile(profile: str) -> str:
    """The one check of a profile name: every entry point (configs, grids, notebooks, the book,
    the scorecard) calls this."""
    return check_choice("profile", profile, PROFILES)


def loads_stored(profile: str) -> bool:
    """The rule of the cpu profile: a book build there trains no CIFAR-scale part; it shows the
    runs that are stored (trained run by run with ``regprune train``)."""
    return check_profile(profile) == "cpu"


def measured_profile(profile: str, needs_gpu: bool = True) -> str:
    """The profile whose runs a part of a ``profile`` build shows: a part that needs a GPU shows
    the stored ``paper`` runs in a cpu build, every other part the build's own."""
    return "paper" if needs_gpu and loads_stored(profile) else profile


def pick(settings: dict[str, Any], profile: str) -> Any:
    """``settings[profile]``, with an error naming the profiles a chapter offers."""
    check_profile(profile)
    if profile not in settings:
        raise ConfigError(f"profile={profile!r} is not offered here; choose one of: {sorted(settings)}")
    return settings[profile]
