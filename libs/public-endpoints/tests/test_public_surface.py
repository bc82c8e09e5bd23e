import public_endpoints


def test_the_public_surface():
    assert set(public_endpoints.__all__) == {
        "EndpointRefused",
        "Resolver",
        "checked_endpoint",
        "is_public",
        "resolve",
    }
