-- The start of the latest fully successful poll of each (upstream, tenant): the "since" watermark that
-- upstreams supporting one are asked from (minus an overlap; every listed key is still checked).
ALTER TABLE upstream_poll ADD COLUMN watermark TIMESTAMP WITH TIME ZONE;
