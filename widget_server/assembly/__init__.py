"""Where the parts are put together. `jobs/` and `mail/` know no use case: the use cases that handle each job
kind, and what a dialog records when its e-mail leaves, are bound to them here."""
