"""Finding or installing the browser tests' Chromium: system first, installs only on a miss."""

import os
import stat

import pytest

from tests.chromium import Host, InstallStep, find_or_install_chromium, install_steps

DEBIAN_ROOT = Host(distribution="debian", is_root=True)
DEBIAN_USER = Host(distribution="debian", is_root=False)
UBUNTU_ROOT = Host(distribution="ubuntu debian", is_root=True)
FEDORA_USER = Host(distribution="fedora", is_root=False)


def executable(path):
    path.write_text("#!/bin/sh\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


@pytest.fixture
def no_system_chromium(tmp_path, monkeypatch):
    """A PATH without any Chromium; returns a directory that a fake install can fill."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.delenv("SIMFLEET_CHROMIUM", raising=False)
    return bin_dir


def never_install(step: InstallStep) -> bool:
    raise AssertionError(f"installed {step.what} though a browser was there")


def test_the_system_chromium_is_found_without_installing(no_system_chromium, tmp_path):
    chromium = executable(no_system_chromium / "chromium")
    found = find_or_install_chromium(tmp_path / "none", host=DEBIAN_ROOT, install=never_install)
    assert found == chromium


def test_a_configured_chromium_wins_and_a_wrong_one_fails(
    no_system_chromium, tmp_path, monkeypatch
):
    executable(no_system_chromium / "chromium")
    mine = executable(tmp_path / "my-chrome")
    monkeypatch.setenv("SIMFLEET_CHROMIUM", str(mine))
    assert (
        find_or_install_chromium(tmp_path / "none", host=DEBIAN_ROOT, install=never_install) == mine
    )
    monkeypatch.setenv("SIMFLEET_CHROMIUM", str(tmp_path / "missing"))
    with pytest.raises(pytest.fail.Exception, match="is not an executable"):
        find_or_install_chromium(tmp_path / "none", host=DEBIAN_ROOT, install=never_install)


def test_playwrights_earlier_download_is_used_without_installing(no_system_chromium, tmp_path):
    own = executable(tmp_path / "playwright-chrome")
    assert find_or_install_chromium(own, host=FEDORA_USER, install=never_install) is None


def test_root_on_debian_installs_the_distribution_package_first(no_system_chromium, tmp_path):
    tried = []

    def install(step: InstallStep) -> bool:
        tried.append(step.what)
        executable(no_system_chromium / "chromium")  # what apt-get would do
        return True

    found = find_or_install_chromium(tmp_path / "none", host=DEBIAN_ROOT, install=install)
    assert found == no_system_chromium / "chromium"
    assert tried == ["the distribution's chromium package"]


def test_when_apt_fails_playwrights_download_comes_next(no_system_chromium, tmp_path):
    own = tmp_path / "playwright-chrome"
    tried = []

    def install(step: InstallStep) -> bool:
        tried.append(step.command[:2])
        if step.playwright_own:
            executable(own)
            return True
        return False

    assert find_or_install_chromium(own, host=UBUNTU_ROOT, install=install) is None
    assert tried == [["sh", "-c"], [tried[1][0], "-m"]]


def test_without_root_only_playwrights_download_is_tried():
    assert [step.playwright_own for step in install_steps(DEBIAN_USER)] == [True]
    assert [step.playwright_own for step in install_steps(FEDORA_USER)] == [True]
    assert (
        "apt-get install -y -q --no-install-recommends chromium-browser"
        in (install_steps(UBUNTU_ROOT)[0].command[2])
    )


@pytest.mark.parametrize(
    ("host", "command"),
    [
        (DEBIAN_USER, "Run: sudo apt-get install chromium "),
        (DEBIAN_ROOT, "Run: apt-get install chromium "),
        (FEDORA_USER, "-m playwright install --with-deps chromium "),
    ],
)
def test_when_nothing_works_the_failure_names_one_command(
    no_system_chromium, tmp_path, host, command
):
    with pytest.raises(pytest.fail.Exception) as failure:
        find_or_install_chromium(tmp_path / "none", host=host, install=lambda step: False)
    assert command in str(failure.value)
    assert "Tried: " in str(failure.value)


def test_installs_can_be_switched_off(no_system_chromium, tmp_path):
    with pytest.raises(pytest.fail.Exception, match="Run: apt-get install chromium"):
        find_or_install_chromium(
            tmp_path / "none", host=DEBIAN_ROOT, install=never_install, allow_install=False
        )
    assert os.environ["PATH"] == str(no_system_chromium)
