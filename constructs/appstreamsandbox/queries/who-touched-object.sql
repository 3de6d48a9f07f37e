-- Who touched this object: every S3 data event on one object, with the AppStream session and
-- user whose streaming instance made it. Parameters, in order: first and last day
-- ('yyyy/MM/dd', the CloudTrail partition), bucket, key.
-- candidate_sessions > 1 means several sessions had that instance IP at that time (a
-- multi-session instance, or users behind one NAT address): each is listed, none is chosen.
WITH events AS (
    SELECT from_iso8601_timestamp(eventtime) AS event_time, eventid, eventname, eventsource, sourceipaddress,
           requestid, errorcode,
           json_extract_scalar(requestparameters, '$.bucketName') AS bucket,
           json_extract_scalar(requestparameters, '$.key') AS object_key
    FROM "{database}"."cloudtrail_logs"
    WHERE "timestamp" BETWEEN ? AND ?
),
sessions AS (
    SELECT user_session_id, user_id, authentication_type, eni_private_ip_address,
           from_iso8601_timestamp(session_start_time) AS start_time,
           coalesce(from_iso8601_timestamp(nullif(session_end_time, '')), TIMESTAMP '9999-12-31 00:00:00 UTC') AS end_time
    FROM "{database}"."appstream_sessions"
)
SELECT e.event_time, e.eventname AS operation, e.bucket, e.object_key, e.sourceipaddress AS instance_ip,
       s.user_id, s.user_session_id, e.eventid, e.requestid, e.errorcode,
       count(s.user_session_id) OVER (PARTITION BY e.eventid) AS candidate_sessions
FROM events e
LEFT JOIN sessions s
  ON s.eni_private_ip_address = e.sourceipaddress
 AND e.event_time BETWEEN s.start_time - INTERVAL '10' SECOND AND s.end_time + INTERVAL '10' SECOND
WHERE e.eventsource = 's3.amazonaws.com' AND e.bucket = ? AND e.object_key = ?
ORDER BY e.event_time
