// Package cfnresponse implements the onEvent side of the AWS CDK custom-resource provider
// framework (aws-cdk-lib/custom-resources Provider) for Go Lambdas.
//
// The framework invokes the onEvent function with the CloudFormation event and answers
// CloudFormation itself: the function RETURNS a Response (SUCCESS) or an error (FAILED, with the
// error message as the reason). This package therefore never writes to ResponseURL. Wire a
// resource in main.go as
//
//	lambda.Start(cfnresponse.Handler(&myResource{...}, nil))
//
// Handler gives every custom resource the same contract:
//
//   - PhysicalResourceId is stable: a Create that returns "" gets DefaultPhysicalResourceId, never
//     the RequestId (the framework's default), so a retried Create names the same resource.
//   - Errors reach CloudFormation as one bounded line; panics become such errors.
//   - The resource runs under a context whose deadline leaves time to answer before Lambda's.
//   - One JSON log line per event, without property values or Data.
//
// Provider framework behaviour a Resource must allow for:
//
//   - A failed Create is answered with a marker PhysicalResourceId, and the framework answers the
//     Delete that CloudFormation sends during rollback without invoking the function. Create must
//     therefore undo its own partial work before returning an error, or leak it.
//   - Delete must succeed when the resource is already gone: CloudFormation retries, and a
//     Delete can follow an Update that already replaced the resource.
package cfnresponse

import (
	"crypto/sha256"
	"encoding/hex"
)

// RequestType is the CloudFormation lifecycle operation of an Event.
type RequestType string

// The request types CloudFormation sends. Any other value makes Handler return an error.
const (
	Create RequestType = "Create"
	Update RequestType = "Update"
	Delete RequestType = "Delete"
)

// Event is the custom-resource request as the provider framework passes it to onEvent. The JSON
// names are CloudFormation's.
//
// CloudFormation passes every scalar in ResourceProperties as a string; use Decode to read them
// into a struct. ResourceProperties always holds "ServiceToken" as well.
type Event struct {
	// RequestType is Create, Update or Delete.
	RequestType RequestType `json:"RequestType"`
	// ServiceToken is the ARN of the provider framework's function. Informational.
	ServiceToken string `json:"ServiceToken,omitempty"`
	// ResponseURL is a presigned S3 URL that grants write access to the response. The framework
	// answers CloudFormation itself, so a Resource must never use it, and it is never logged.
	ResponseURL string `json:"ResponseURL,omitempty"`
	// StackId is the ARN of the stack, which includes the stack's unique ID.
	StackId string `json:"StackId"`
	// RequestId is unique per request: a retried operation gets a new one, so it is no basis
	// for a physical ID.
	RequestId string `json:"RequestId"`
	// ResourceType is the template's type name, for example "Custom::PublicKey".
	ResourceType string `json:"ResourceType"`
	// LogicalResourceId is the resource's name in the template.
	LogicalResourceId string `json:"LogicalResourceId"`
	// PhysicalResourceId is the ID returned by the Create or Update that made the resource.
	// Empty on Create; always set on Update and Delete.
	PhysicalResourceId string `json:"PhysicalResourceId,omitempty"`
	// ResourceProperties are the resource's properties as now declared. They may hold secrets
	// and are never logged.
	ResourceProperties map[string]any `json:"ResourceProperties,omitempty"`
	// OldResourceProperties are the properties before an Update; nil for Create and Delete.
	OldResourceProperties map[string]any `json:"OldResourceProperties,omitempty"`
}

// Response is what onEvent returns to the provider framework on success.
type Response struct {
	// PhysicalResourceId identifies what the resource manages. Handler fills it when the
	// Resource leaves it empty: DefaultPhysicalResourceId on Create, the event's ID on Update and
	// Delete. An Update that returns a different ID replaces the resource (see Resource).
	PhysicalResourceId string `json:"PhysicalResourceId,omitempty"`
	// Data are the attributes that Fn::GetAtt reads. Handler never logs them.
	Data map[string]any `json:"Data,omitempty"`
	// NoEcho masks Data in the CloudFormation console and API output. Default false.
	NoEcho bool `json:"NoEcho,omitempty"`
}

// DefaultPhysicalResourceId is the physical ID Handler gives a Create that returns none:
// "<logicalResourceId>-<first 16 hex digits of sha256(stackId + "/" + logicalResourceId)>".
// It is the same for every retry of the Create and differs between stacks, even two stacks of
// the same name created one after the other, because StackId carries the stack's unique ID.
func DefaultPhysicalResourceId(stackId, logicalResourceId string) string {
	sum := sha256.Sum256([]byte(stackId + "/" + logicalResourceId))
	return logicalResourceId + "-" + hex.EncodeToString(sum[:8])
}
