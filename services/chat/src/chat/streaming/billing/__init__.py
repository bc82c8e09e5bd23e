"""Where an answer is billed: the credits held before the model is called, the hold kept while
it streams, and the settlement once it is stored: what is charged is what was measured."""
