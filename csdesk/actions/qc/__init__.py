"""QC (质检) writes: script versions, the auto-check, the daily sample, scores and their
findings, disputes, calibration sessions and improvement proposals. The pure rules are in
``csdesk.qc``; reads for the console and the API in ``csdesk.reads.qc``."""
