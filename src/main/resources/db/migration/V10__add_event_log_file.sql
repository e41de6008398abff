-- Which file state an event reports: the file's id and its ledger row's updated_at when the event was built. One
-- event per settled state: a second node (or the recovery sweep) that builds the same end state's event again is
-- refused here and publishes nothing. The recovery sweep (erphub-event-recovery) finds settled files without their
-- event: a node killed between the ledger's commit and the event's. Valid on H2 (2.x) and PostgreSQL (12+); NULLs
-- (events that are not a file's end state) are never equal, so they never collide.
ALTER TABLE event_log ADD COLUMN file_id BIGINT;
ALTER TABLE event_log ADD COLUMN file_settled_at TIMESTAMP WITH TIME ZONE;
CREATE UNIQUE INDEX uq_event_log_file_settled ON event_log (file_id, file_settled_at);
-- Events logged before this migration carry no file state: the sweep looks only at files settled after it, so an
-- upgrade does not publish the last hour's end states again.
CREATE TABLE event_recovery_start (
    started_at TIMESTAMP WITH TIME ZONE NOT NULL
);
INSERT INTO event_recovery_start (started_at) VALUES (CURRENT_TIMESTAMP);
