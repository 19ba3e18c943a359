"""A result read through the API pickles without the token: its kept HTTP response goes
without the request (whose Authorization header holds it), and still answers
``http_response()`` with the status and body after unpickling."""

from __future__ import annotations

import pickle

from losant_fluent import API
from losant_fluent.testing import Emulator


def test_a_result_pickles_without_the_token_and_keeps_its_answer() -> None:
    with Emulator() as emu:
        token = emu.user_token()
        app = API(emu.url, token).applications(emu.application_id).get()
        assert app.http_response() is not None
        assert app.http_response().request.headers["Authorization"].endswith(token)
        pickled = pickle.dumps(app)
    assert token.encode() not in pickled
    again = pickle.loads(pickled)
    assert again.model_dump() == app.model_dump() and again.id == emu.application_id
    response = again.http_response()
    assert response is not None and response.status_code == 200
    assert response.request is None and emu.application_id in response.text
    # the live result keeps its request: only the pickle goes without it
    assert app.http_response().request is not None
