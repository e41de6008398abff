-- Retention: when an upstream last listed a settled file version (refreshed at most every quarter of the retention
-- period). A settled row is pruned only once it is older than the retention period AND has not been listed for that
-- long: a version the upstream still lists would otherwise be claimed and delivered again.
ALTER TABLE file_version ADD COLUMN last_listed_at TIMESTAMP WITH TIME ZONE;
CREATE INDEX ix_file_version_settled ON file_version (state, updated_at);
