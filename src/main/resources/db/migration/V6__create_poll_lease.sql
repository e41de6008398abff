-- Which replica lists each (upstream, tenant): the holder of the pair's poll lease. The holder renews it at each of
-- its polls until past its next one; another replica lists the pair only once the lease has ended (its holder died,
-- stopped or fell behind), so replicas do not multiply the list calls against upstreams that rate-limit.
CREATE TABLE poll_lease (
    upstream     VARCHAR(64)   NOT NULL,
    tenant       VARCHAR(40)   NOT NULL,
    holder       VARCHAR(128)  NOT NULL,
    lease_until  TIMESTAMP WITH TIME ZONE NOT NULL,
    CONSTRAINT pk_poll_lease PRIMARY KEY (upstream, tenant)
);
CREATE INDEX ix_poll_lease_holder ON poll_lease (holder);
