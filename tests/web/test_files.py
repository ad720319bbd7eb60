"""Files are served only from inside the output directory: ``..``, absolute paths and
symbolic links that lead out are not found (404); what is inside downloads as an attachment."""

from __future__ import annotations

import os

import pytest

from plato_eas.settings import Settings
from plato_eas.web.app import create_app
from plato_eas.web.files import contained


@pytest.fixture
def tree(tmp_path):
    """An output directory with a file, a folder, links in and out, and a secret beside it."""
    data = tmp_path / "data"
    out = data / "output"
    (out / "job").mkdir(parents=True)
    (out / "job" / "result.lc").write_text("inside\n")
    (data / "secret.txt").write_text("outside the output directory\n")
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "x.txt").write_text("elsewhere\n")
    os.symlink(data / "secret.txt", out / "job" / "link_out.txt")
    os.symlink(tmp_path / "elsewhere", out / "dir_out")
    os.symlink(out / "job" / "result.lc", out / "link_in.lc")
    return Settings(db_path=str(tmp_path / "eas.sqlite"), data_dir=str(data))


def test_contained_resolves_real_paths(tree):
    root = tree.output_dir
    assert contained(root, "job/result.lc") == (root / "job" / "result.lc").resolve()
    assert contained(root, "link_in.lc") == (root / "job" / "result.lc").resolve()
    for escape in ("../secret.txt", "job/../../secret.txt", "/etc/passwd",
                   str(tree.output_dir.parent / "secret.txt"), "job/link_out.txt",
                   "dir_out/x.txt", "dir_out", "missing.txt", "job/\x00x"):
        assert contained(root, escape) is None, escape


@pytest.mark.parametrize("url", [
    "/files/../secret.txt", "/files/..%2fsecret.txt", "/files/job/..%2F..%2Fsecret.txt",
    "/files/%2e%2e/secret.txt", "/files//etc/passwd", "/files/%2Fetc%2Fpasswd",
    "/files/job/link_out.txt", "/files/dir_out/x.txt", "/files/dir_out/", "/files/nothing",
])
def test_escapes_are_not_found(tree, url):
    response = create_app(tree).test_client().get(url)
    assert response.status_code == 404
    body = response.get_data(as_text=True)
    assert "outside the output directory" not in body and "root:" not in body


def test_inside_downloads_as_attachment(tree):
    client = create_app(tree).test_client()
    response = client.get("/files/job/result.lc")
    assert response.status_code == 200 and response.get_data() == b"inside\n"
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert "sandbox" in response.headers["Content-Security-Policy"]
    assert client.get("/files/link_in.lc").get_data() == b"inside\n"


def test_listing_leaves_out_links_that_lead_out(tree):
    client = create_app(tree).test_client()
    body = client.get("/files/").get_data(as_text=True)
    assert "job/" in body and "link_in.lc" in body and "dir_out" not in body
    body = client.get("/files/job").get_data(as_text=True)
    assert "result.lc" in body and "link_out.txt" not in body
