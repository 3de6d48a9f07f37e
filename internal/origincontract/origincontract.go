// Package origincontract is what the cloudfrontorigin construct and the origin-updater Lambda
// (internal/originupdate) must agree on, without the construct linking the EC2 SDK.
package origincontract

// TopicArn is AWS's topic that announces every change of ip-ranges.json. It lives in us-east-1
// in AWS's own account; a subscriber in any region subscribes to it there
// (https://docs.aws.amazon.com/vpc/latest/userguide/subscribe-notifications.html).
const TopicArn = "arn:aws:sns:us-east-1:806199016981:AmazonIpSpaceChanged"

// Tags the updater reads and writes.
const (
	// OwnerTagKey marks the security groups and prefix lists an updater owns; its value is the
	// updater's name. The Lambda's IAM policy allows group writes only where it is set.
	OwnerTagKey = "securestacks:origin-updater"
	// TokenTagKey holds the syncToken of the last document applied, on the first group or the
	// IPv4 prefix list: a durable token that costs no other service.
	TokenTagKey = "securestacks:ip-ranges-sync-token"
)
