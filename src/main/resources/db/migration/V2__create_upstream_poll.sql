-- The outcome of the latest poll of each (upstream, tenant): what health and operators read to see a
-- failing upstream, and where a malformed list page leaves its reason (no file row exists for it).

CREATE TABLE upstream_poll (
    upstream             VARCHAR(64)   NOT NULL,
    tenant               VARCHAR(40)   NOT NULL,
    last_started_at      TIMESTAMP WITH TIME ZONE NOT NULL,
    last_success_at      TIMESTAMP WITH TIME ZONE,
    last_error_at        TIMESTAMP WITH TIME ZONE,
    last_error           VARCHAR(2000),
    consecutive_failures INTEGER       NOT NULL DEFAULT 0,
    last_claimed         INTEGER       NOT NULL DEFAULT 0,
    node                 VARCHAR(128)  NOT NULL,
    CONSTRAINT pk_upstream_poll PRIMARY KEY (upstream, tenant),
    CONSTRAINT ck_upstream_poll_failures CHECK (consecutive_failures >= 0)
);
