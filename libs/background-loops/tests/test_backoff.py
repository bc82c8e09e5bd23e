from background_loops import Backoff


def test_the_delay_doubles_from_the_first_up_to_the_most():
    backoff = Backoff(first=0.2, most=10.0)
    assert [backoff.delay(n) for n in range(1, 9)] == [0.2, 0.4, 0.8, 1.6, 3.2, 6.4, 10.0, 10.0]


def test_a_very_long_outage_stays_at_the_most_instead_of_overflowing():
    assert Backoff(first=0.2, most=10.0).delay(100_000) == 10.0
