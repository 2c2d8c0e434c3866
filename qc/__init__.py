"""Quality control (质检), pure: sampling plans (ISO 2859-1 and the daily picks), scripts
(话术) and the transcript auto-check, forbidden phrases, calibration. See docs/qc.md."""
