-- The timeline's head kept on the incident row, updated in the same
-- transaction as each entry: deleting the last entries of a timeline (which
-- the hash chain alone cannot tell) no longer matches the row.
ALTER TABLE incidents ADD COLUMN timeline_len INTEGER NOT NULL DEFAULT 0;
ALTER TABLE incidents ADD COLUMN timeline_head TEXT NOT NULL DEFAULT '';
UPDATE incidents SET
    timeline_len = (SELECT COUNT(*) FROM timeline WHERE timeline.incident_id = incidents.id),
    timeline_head = COALESCE(
        (SELECT hash FROM timeline WHERE timeline.incident_id = incidents.id ORDER BY seq DESC LIMIT 1),
        '');
