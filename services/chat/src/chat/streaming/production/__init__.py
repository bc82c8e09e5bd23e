"""Where an answer is produced: the model call in a task of its own, its events handed to the
connections following it here, to this replica's observers and to the resume log."""
