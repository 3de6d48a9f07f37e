-- Everything user U did between T1 and T2: every CloudTrail event from the instance IPs of the
-- user's AppStream sessions while they ran, and the user's streaming-URL logins. Parameters, in
-- order: first and last day ('yyyy/MM/dd', the CloudTrail partition), user id, T1 and T2 (ISO
-- 8601, such as '2026-12-03T10:00:00Z'), then the user id again for the logins.
WITH events AS (
    SELECT from_iso8601_timestamp(eventtime) AS event_time, eventid, eventname, eventsource, sourceipaddress,
           requestid, errorcode, requestparameters,
           json_extract_scalar(requestparameters, '$.bucketName') AS bucket,
           json_extract_scalar(requestparameters, '$.key') AS object_key
    FROM "{database}"."cloudtrail_logs"
    WHERE "timestamp" BETWEEN ? AND ?
),
sessions AS (
    SELECT user_session_id, user_id, eni_private_ip_address,
           from_iso8601_timestamp(session_start_time) AS start_time,
           coalesce(from_iso8601_timestamp(nullif(session_end_time, '')), TIMESTAMP '9999-12-31 00:00:00 UTC') AS end_time
    FROM "{database}"."appstream_sessions"
    WHERE user_id = ?
),
bounds AS (
    SELECT from_iso8601_timestamp(?) AS t1, from_iso8601_timestamp(?) AS t2
)
SELECT e.event_time, e.eventsource, e.eventname AS operation, e.bucket, e.object_key, e.sourceipaddress AS instance_ip,
       s.user_id, s.user_session_id, e.eventid, e.requestid, e.errorcode
FROM events e
JOIN sessions s
  ON s.eni_private_ip_address = e.sourceipaddress
 AND e.event_time BETWEEN s.start_time - INTERVAL '10' SECOND AND s.end_time + INTERVAL '10' SECOND
CROSS JOIN bounds w
WHERE e.event_time >= w.t1 AND e.event_time < w.t2
UNION ALL
SELECT e.event_time, e.eventsource, e.eventname, NULL, NULL, e.sourceipaddress,
       json_extract_scalar(e.requestparameters, '$.userId'), NULL, e.eventid, e.requestid, e.errorcode
FROM events e
CROSS JOIN bounds w
WHERE e.eventsource = 'appstream.amazonaws.com' AND e.eventname = 'CreateStreamingURL'
  AND json_extract_scalar(e.requestparameters, '$.userId') = ?
  AND e.event_time >= w.t1 AND e.event_time < w.t2
ORDER BY 1
