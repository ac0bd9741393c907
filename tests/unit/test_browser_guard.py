"""The browser tests' guard: a loud skip on a laptop without chromium, a failure in CI."""

from __future__ import annotations


def test_a_missing_browser_fails_the_browser_tests_in_ci(monkeypatch):
    import pytest

    import tests.support as support

    monkeypatch.setattr(support, "CHROMIUM", support.Path("/nonexistent/chromium"))
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="missing under CI=true"):
        support.chromium_or_skip()
    monkeypatch.setenv("CI", "")
    with pytest.raises(pytest.skip.Exception, match="BROWSER TEST SKIPPED"):
        support.chromium_or_skip()
