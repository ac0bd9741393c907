"""Definitions by area: one folder per area (extract, socrata, hr, oltp, lake, warehouse,
quality, daily, alerts, runs), each with its assets, jobs, schedules, sensors and checks."""
