"""Training (培训) and points (积分制), pure: course content and quizzes, the rules that turn
QC findings into course assignments, the measured effect of a course, the points rules and
rankings, reminders, the update course made from a script change, safe Markdown. Facts in,
decision out, ``now`` passed in; no clock, database or network. See docs/training.md."""
