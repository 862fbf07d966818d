"""hack/apt_sources.py: the Debian mirror and security mirror taken from a machine's own apt sources, in
both formats apt reads, with the options, comments and disabled entries real files have."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.hackscripts import load

apt_sources = load("apt_sources")

BOOKWORM = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_CODENAME=bookworm\n'
# Debian 12's default file, as on this project's machines, with the mirror's host replaced.
DEBIAN_SOURCES = """\
Types: deb
# http://snapshot.mirror.example/archive/debian/20250520T000000Z
URIs: http://mirror.example/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
# http://snapshot.mirror.example/archive/debian-security/20250520T000000Z
URIs: http://mirror.example/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
"""
OTHER_VENDOR_SOURCES = """\
Types: deb
URIs: https://vendor.example/node_20.x
Suites: nodistro
Components: main
Architectures: amd64
Signed-By: /usr/share/keyrings/nodesource.gpg
"""


@pytest.mark.parametrize(("files", "want"), [
    pytest.param({"sources.list.d/debian.sources": DEBIAN_SOURCES},
                 ("http://mirror.example/debian", "http://mirror.example/debian-security"),
                 id="debian-12-default-deb822-with-comments-in-the-stanza"),
    pytest.param({"sources.list": "# deb http://old.example/debian bookworm main\n"
                                  "deb-src http://src.example/debian bookworm main\n"
                                  "deb [arch=amd64 signed-by=/usr/share/keyrings/k.gpg] http://corp.example/debian/ "
                                  "bookworm main contrib  # the company mirror\n"
                                  "deb http://corp.example/security bookworm-security main\n"},
                 ("http://corp.example/debian", "http://corp.example/security"),
                 id="one-line-with-options-trailing-comment-commented-out-and-deb-src-skipped"),
    pytest.param({"sources.list.d/a-vendor.sources": OTHER_VENDOR_SOURCES,
                  "sources.list.d/b-google.list": "deb https://vendor.example/apt cloud-sdk-bookworm main\n",
                  "sources.list.d/debian.sources": DEBIAN_SOURCES},
                 ("http://mirror.example/debian", "http://mirror.example/debian-security"),
                 id="other-vendors-suites-are-not-debian"),
    pytest.param({"sources.list.d/debian.sources": "Enabled: no\n" + DEBIAN_SOURCES.split("\n\n")[0] + "\n\n"
                                                   + DEBIAN_SOURCES.split("\n\n")[1],
                  "sources.list.d/zz-corp.sources": "Types: deb deb-src\nURIs: https://corp.example/debian\n"
                                                    "Suites: bookworm\nComponents: main\n"},
                 ("https://corp.example/debian", "http://mirror.example/debian-security"),
                 id="deb822-enabled-no-is-skipped"),
    pytest.param({"sources.list.d/debian.sources": DEBIAN_SOURCES,
                  "sources.list.d/debian.sources.disabled": "Types: deb\nURIs: http://x.example/d\nSuites: bookworm\n",
                  "sources.list.d/corp.list.save": "deb http://y.example/d bookworm main\n"},
                 ("http://mirror.example/debian", "http://mirror.example/debian-security"),
                 id="files-apt-does-not-read-are-not-read"),
    pytest.param({"sources.list": "deb http://corp.example/debian bookworm main\n",
                  "sources.list.d/debian.sources": DEBIAN_SOURCES},
                 ("http://corp.example/debian", "http://mirror.example/debian-security"),
                 id="sources-list-comes-first-as-in-apt"),
    pytest.param({"sources.list": "deb cdrom:[Debian 12]/ bookworm main\ndeb mirror+file:/etc/apt/m.txt bookworm main\n"
                                  "deb http://corp.example/debian bookworm main\n"
                                  "deb http://corp.example/security bookworm/updates main\n"},
                 ("http://corp.example/debian", "http://corp.example/security"),
                 id="only-http-mirrors-and-the-old-security-suite-name"),
    pytest.param({"sources.list.d/debian.sources": "Types: deb\nURIs: http://mirror.example/debian\n"
                                                   "Suites: trixie\nSigned-By:\n -----BEGIN PGP PUBLIC KEY BLOCK-----\n"
                                                   " .\n mDMEY865UxYJKwYBBAHaRw8BAQdA\n"
                                                   " -----END PGP PUBLIC KEY BLOCK-----\n"},
                 (None, None), id="another-release-and-no-security-entry-find-nothing"),
])
def test_mirrors_from_the_machines_apt_sources(tmp_path: Path, files: dict[str, str],
                                              want: tuple[str | None, str | None]) -> None:
    for name, text in files.items():
        path = tmp_path / "etc" / "apt" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    found = apt_sources.entries(tmp_path)
    assert (apt_sources.mirror(found, "bookworm", "archive"), apt_sources.mirror(found, "bookworm", "security")) == want


@pytest.mark.parametrize(("os_release", "want"), [
    pytest.param(BOOKWORM, "bookworm", id="debian-12"),
    pytest.param('ID=ubuntu\nID_LIKE=debian\nVERSION_CODENAME=noble\n', None, id="a-derivative-is-not-debian"),
    pytest.param('ID=debian\nPRETTY_NAME="Debian GNU/Linux trixie/sid"\n', None, id="sid-names-no-codename"),
])
def test_the_release_is_debians_own(tmp_path: Path, os_release: str, want: str | None) -> None:
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "os-release").write_text(os_release)
    assert apt_sources.debian_codename(tmp_path) == want


def test_no_mirror_names_the_variable_to_set(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "etc" / "apt").mkdir(parents=True)
    (tmp_path / "etc" / "os-release").write_text(BOOKWORM)
    assert apt_sources.main(["security", "--root", str(tmp_path)]) == 1
    assert "set DEBIAN_SECURITY_MIRROR" in capsys.readouterr().err


def test_the_mirror_is_printed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "etc" / "apt" / "sources.list.d").mkdir(parents=True)
    (tmp_path / "etc" / "apt" / "sources.list.d" / "debian.sources").write_text(DEBIAN_SOURCES)
    (tmp_path / "etc" / "os-release").write_text(BOOKWORM)
    assert apt_sources.main(["archive", "--root", str(tmp_path)]) == 0
    assert capsys.readouterr().out == "http://mirror.example/debian\n"
