"""Training (培训) and points (积分制) writers: courses and their versions, rules and
assignments, quizzes, retraining after a script change, onboarding, reminders, and the
points ledger. See docs/training.md."""
