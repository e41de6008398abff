-- The file's trace (W3C traceparent of its LIST/CLAIM span) when tracing is on: the API shows its trace id,
-- and every delivery, replayed or swept on any node, continues the same trace. NULL when tracing is off.
ALTER TABLE file_version ADD COLUMN traceparent VARCHAR(55);
