"""The names the services and libs import from background_loops, pinned."""

import background_loops


def test_the_public_names_are_exactly_these_and_importable():
    assert sorted(background_loops.__all__) == [
        "BackgroundLoop",
        "Backoff",
        "Failure",
    ]
    for name in background_loops.__all__:
        assert getattr(background_loops, name) is not None, name


def test_a_loop_is_built_from_a_name_a_step_and_an_interval():
    async def step() -> None:
        pass

    loop = background_loops.BackgroundLoop("pinned", step, interval=1.0)
    assert loop.name == "pinned"
    assert not loop.is_running
    assert loop.failures == 0
