"""Error pages are friendly, translated, and never leak details."""

import pytest

from mediation import create_app

from tests.conftest import login, make_test_config


def test_404_is_translated(client):
    """An unknown page gets the translated 404 page."""
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "Pagina non trovata" in response.text
    response = client.get("/no-such-page", headers={"Accept-Language": "en"})
    assert "Page not found" in response.text


@pytest.fixture
def failing_app(tmp_path):
    app = create_app(make_test_config(tmp_path, TESTING=False, PROPAGATE_EXCEPTIONS=False))

    @app.route("/boom")
    def boom():
        raise RuntimeError("secret detail")

    return app


def test_500_page_hides_the_error(failing_app):
    """An unexpected error shows a polite page without the exception text."""
    response = failing_app.test_client().get("/boom")
    assert response.status_code == 500
    assert "Si è verificato un errore" in response.text
    assert "secret detail" not in response.text


def test_405_is_a_page(client):
    """A wrong method is a page, not a bare error."""
    response = client.get("/logout")
    assert response.status_code == 405
    assert "Non consentito" in response.text


def test_dates_out_of_range_are_a_400(client, factory):
    """Year 9999 in a URL is a clear, translated 400, never a 500."""
    mediator = factory.mediator()
    login(client, mediator.user)
    response = client.get("/agenda?week=9999-12-31")
    assert response.status_code == 400
    assert "troppo lontana" in response.text
