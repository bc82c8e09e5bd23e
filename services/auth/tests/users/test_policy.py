import pytest

from auth.users.policy import password_problem, username_problem


@pytest.mark.parametrize("name", ["al", "-alice", "alice smith", "a" * 33, "ali@ce", ""])
def test_bad_usernames(name):
    assert username_problem(name)


def test_a_username_shaped_like_a_user_id_is_refused():
    assert "user id" in username_problem("0b4f3c1e8a1f4d0e9b7c2f6a1c9d3e5b")


@pytest.mark.parametrize("name", ["alice", "user1", "bob.smith", "x_y-z"])
def test_good_usernames(name):
    assert username_problem(name) is None


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("short1!", "at least 8"),
        ("onlyletters", "digit or symbol"),
        ("1234567890123", "letters"),
        ("Tr0ub4dor&3", None),
        ("Password1", "common"),
        ("password1", "common"),
        ("x" * 129, "at most"),
        ("alice-rocks-1", "username"),
    ],
)
def test_password_rules(password, reason):
    problem = password_problem(password, "alice")
    if reason is None:
        assert problem is None
    else:
        assert reason in problem
