"""Answers streamed as they are generated. ``service`` starts and follows them for the routes;
an answer is produced in ``production``, billed in ``billing``, logged for resume (and for
observers on other replicas) in ``resume_log``, and ended by another replica when its own dies
in ``recovery``. Observers are ``chat.observation``'s."""
