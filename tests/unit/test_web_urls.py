"""Public URL building (service/web/urls.py), no HTTP."""

from __future__ import annotations

import pytest

from service.settings import Settings
from service.web.urls import public_url


def test_relative_without_a_base() -> None:
    assert public_url(Settings(), "/v1/articles?limit=2") == "/v1/articles?limit=2"


def test_absolute_from_the_base_with_its_prefix() -> None:
    settings = Settings(public_base_url="https://api.example.org/data/")
    assert settings.public_base_url == "https://api.example.org/data"
    assert public_url(settings, "/v1/x") == "https://api.example.org/data/v1/x"


@pytest.mark.parametrize("path", ["v1/x", "//evil.example/v1", "https://evil.example/", ""])
def test_refuses_anything_but_a_path_on_this_service(path: str) -> None:
    with pytest.raises(ValueError, match="not a path on this service"):
        public_url(Settings(public_base_url="https://api.example.org"), path)
