import pytest

from auth.users.policy import MIN_PASSWORD_SCORE, password_problem, username_problem


@pytest.mark.parametrize("name", ["al", "-alice", "alice smith", "a" * 33, "ali@ce", ""])
def test_bad_usernames(name):
    assert username_problem(name)


def test_a_username_shaped_like_a_user_id_is_refused():
    assert "user id" in username_problem("0b4f3c1e8a1f4d0e9b7c2f6a1c9d3e5b")


@pytest.mark.parametrize("name", ["alice", "user1", "bob.smith", "x_y-z"])
def test_good_usernames(name):
    assert username_problem(name) is None


@pytest.mark.parametrize(
    "password",
    [
        "Password123!",  # in the breached lists, however it is dressed up
        "P@ssw0rd1234",  # l33t does not hide it
        "qwertyuiop12",  # a keyboard walk
        "abcdefghijkl",  # a sequence
        "111111111111",  # a repeat
        "iloveyou2024",  # a common phrase and a year
    ],
)
def test_guessable_passwords_of_twelve_characters_or_more_are_refused(password):
    problem = password_problem(password, username="alice", email="alice@example.com")
    assert problem is not None
    assert problem.details["score"] < problem.details["minScore"] == MIN_PASSWORD_SCORE
    assert problem.details["warning"] or problem.details["suggestions"]
    assert problem.message.startswith("Password is too easy to guess")


@pytest.mark.parametrize("password", ["aliceSmith1990", "alice@example.com1"])
def test_the_username_and_email_are_known_to_the_estimator(password):
    # Neither is weak for a stranger: what makes them weak is whose password they are.
    assert password_problem(password, username="bob", email="bob@example.com") is None
    problem = password_problem(password, username="aliceSmith", email="alice@example.com")
    assert problem is not None and problem.details["score"] < MIN_PASSWORD_SCORE


def test_a_strong_password_under_twelve_characters_is_refused_for_its_length():
    problem = password_problem("Tr0ub4dor&3", username="alice", email="alice@example.com")
    assert problem.message == "Password must be at least 12 characters"
    assert problem.details == {"minLength": 12}


def test_a_password_over_the_maximum_is_refused_before_it_is_estimated():
    problem = password_problem("x" * 129, username="alice", email="alice@example.com")
    assert "at most 128" in problem.message


@pytest.mark.parametrize(
    "password",
    [
        "plum-Quartz-violin-42",
        "correct horse battery staple",
        "Str0ng-pass!",
        "Kq7#vL2p!xZ9" + "w" * 116,  # 128 characters: only the first 72 are estimated
    ],
)
def test_strong_passwords_pass(password):
    assert password_problem(password, username="alice", email="alice@example.com") is None
