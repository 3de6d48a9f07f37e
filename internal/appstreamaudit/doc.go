// Package appstreamaudit connects the dots of the AppStream sandbox's audit trail, as the seed
// post does by hand: the CloudTrail login gives the user, CloudTrail's S3 data event gives the
// source IP of the streaming instance, and the AppStream usage report gives that instance IP with
// the user and the session. Together they say which user did what to which object.
//
// Everything streams. The usage reports (one row per session) are read first into an index by
// instance IP; the CloudTrail log files are then read one record at a time, and every correlated
// action is handed to the caller as soon as it is read. Memory therefore grows with the number of
// sessions, never with the number of CloudTrail records.
//
// A record that cannot be parsed is reported, with its file and position, through the caller's
// error callback; it is never dropped silently.
//
// Formats:
//   - CloudTrail log files: https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-log-file-examples.html
//     and record contents: https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html
//   - S3 data events in CloudTrail: https://docs.aws.amazon.com/AmazonS3/latest/userguide/cloudtrail-logging-understanding-s3-entries.html
//   - AppStream usage reports: https://docs.aws.amazon.com/appstream2/latest/developerguide/configure-usage-reports.html,
//     sessions https://docs.aws.amazon.com/appstream2/latest/developerguide/usage-reports-fields-sessions-reports.html
//     and applications https://docs.aws.amazon.com/appstream2/latest/developerguide/usage-reports-fields-applications-reports.html
package appstreamaudit
