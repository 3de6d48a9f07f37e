-- Sessions whose instance IP wrote to a home folder that is not the session user's: S3 writes
-- into user/<type>/<folder hash>/ of the AppStream home-folder bucket, where the folder hash
-- (the SHA-256 of the owner's user id) is not the hash of the user of the session that had the
-- source IP. Parameters, in order: first and last day ('yyyy/MM/dd', the CloudTrail partition).
-- candidate_sessions > 1: several sessions had the IP then; each is listed, none is chosen.
WITH events AS (
    SELECT from_iso8601_timestamp(eventtime) AS event_time, eventid, eventname, eventsource, sourceipaddress,
           requestid, errorcode,
           json_extract_scalar(requestparameters, '$.bucketName') AS bucket,
           json_extract_scalar(requestparameters, '$.key') AS object_key
    FROM "{database}"."cloudtrail_logs"
    WHERE "timestamp" BETWEEN ? AND ?
      AND eventsource = 's3.amazonaws.com'
      AND eventname IN ('PutObject', 'CopyObject', 'CreateMultipartUpload', 'CompleteMultipartUpload', 'DeleteObject', 'DeleteObjects', 'RestoreObject')
),
sessions AS (
    SELECT user_session_id, user_id, eni_private_ip_address,
           from_iso8601_timestamp(session_start_time) AS start_time,
           coalesce(from_iso8601_timestamp(nullif(session_end_time, '')), TIMESTAMP '9999-12-31 00:00:00 UTC') AS end_time
    FROM "{database}"."appstream_sessions"
)
SELECT e.event_time, e.eventname AS operation, e.bucket, e.object_key, e.sourceipaddress AS instance_ip,
       s.user_id AS session_user, s.user_session_id, split_part(e.object_key, '/', 3) AS folder_hash,
       e.eventid, e.requestid, e.errorcode,
       count(*) OVER (PARTITION BY e.eventid) AS candidate_sessions
FROM events e
JOIN sessions s
  ON s.eni_private_ip_address = e.sourceipaddress
 AND e.event_time BETWEEN s.start_time - INTERVAL '10' SECOND AND s.end_time + INTERVAL '10' SECOND
WHERE e.bucket LIKE 'appstream2-36fb080bb8-%'
  AND e.object_key LIKE 'user/%/%/%'
  AND split_part(e.object_key, '/', 3) <> lower(to_hex(sha256(to_utf8(s.user_id))))
ORDER BY e.event_time
